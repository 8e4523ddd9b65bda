"""Check an evidence package against its manifest: the same code as the verify.py inside every package."""

from django.core.management.base import BaseCommand, CommandError

from requests_app import package_verify


class Command(BaseCommand):
    help = ("Re-hash every file of an evidence package (a ZIP or an extracted folder) against its manifest.json; "
            "prints one line per file and fails naming each file that is missing or altered.")

    def add_arguments(self, parser):
        parser.add_argument("package", help="The package: PACKAGE.zip or its extracted folder.")

    def handle(self, *args, **options):
        if package_verify.main([options["package"]], out=self.stdout) != 0:
            raise CommandError("The package does not match its manifest (see the lines above).", returncode=1)
