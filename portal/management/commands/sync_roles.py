from django.apps import apps
from django.core.management.base import BaseCommand

from portal.roles import ROLE_PERMISSIONS, sync_roles


class Command(BaseCommand):
    help = "Give each staff role group exactly the permissions listed in portal/roles.py."

    def handle(self, *args, **options):
        sync_roles(apps)
        for role, permissions in ROLE_PERMISSIONS.items():
            self.stdout.write(f"{role}: {len(permissions)} permissions")
