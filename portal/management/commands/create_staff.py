from django.core.management.base import BaseCommand, CommandError

from portal.roles import ROLE_NAMES
from portal.services import staff_create


class Command(BaseCommand):
    help = "Create or update a police staff account. The person must set up MFA at first sign-in."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--name", required=True, help="Full name, shown to owners with the badge number.")
        parser.add_argument("--role", action="append", required=True, choices=ROLE_NAMES,
                            help="A role; repeat for several.")
        parser.add_argument("--badge", default="", help="Badge number.")
        parser.add_argument("--superuser", action="store_true", help="Full admin rights (IT administrators).")

    def handle(self, *args, email, name, role, badge, superuser, **options):
        try:
            user, password = staff_create(email=email, full_name=name, roles=role, badge_number=badge,
                                          superuser=superuser)
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"Staff account ready: {user.email} ({', '.join(role)})."))
        self.stdout.write(f"Temporary password (hand it over in person): {password}")
