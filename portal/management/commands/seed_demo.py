from django.core.management.base import BaseCommand

from cameras.models import Address
from portal.demo import DEMO_PASSWORD, OWNERS, demo_seed


class Command(BaseCommand):
    help = "Create or refresh the demo accounts (idempotent) and print how to sign in."

    def handle(self, *args, **options):
        logins = demo_seed()
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"The camera form's address search knows {Address.objects.count()} demo addresses "
                          "(e.g. 1815 Market St).")
        self.stdout.write(f"\nAll demo accounts use the password: {DEMO_PASSWORD}\n")
        self.stdout.write("Camera owners:")
        for owner in OWNERS:
            self.stdout.write(f"  {owner['email']:<26} {owner['account_type']}")
        self.stdout.write("\nPolice staff (MFA required). Add the secret to an authenticator app, or run")
        self.stdout.write("`.venv/bin/python manage.py totp_code EMAIL` for the current code:")
        for login in logins:
            self.stdout.write(f"  {login.email:<26} {', '.join(login.roles)}")
            self.stdout.write(f"      TOTP secret: {login.totp_secret}")
            self.stdout.write(f"      {login.otpauth_uri}")
