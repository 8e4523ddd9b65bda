"""Apply the retention rules now (the daily "Purge by retention rules" schedule does the same)."""

import json

from django.core.management.base import BaseCommand

from requests_app.services import retention_purge


class Command(BaseCommand):
    help = ("Delete what the retention rules say is due (docs/requests.md, Retention), finish deletions a "
            "crashed run left pending, and send the owners' deletion receipts. Safe to run at any time.")

    def handle(self, *args, **options):
        self.stdout.write(json.dumps(retention_purge()))
