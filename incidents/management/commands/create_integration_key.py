from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from incidents.models import IntegrationKey
from incidents.services import integration_key_create


class Command(BaseCommand):
    help = "Create an API key for a dispatch (CAD), alarm or vehicle-locator system. The key is printed once."

    def add_arguments(self, parser):
        parser.add_argument("name", help='Who uses the key, e.g. "County CAD".')
        parser.add_argument("--kind", required=True, choices=IntegrationKey.Kind.values,
                            help="cad: 911 events; alarm: alarm events; avl: unit positions only.")

    def handle(self, *args, name, kind, **options):
        try:
            key, raw_key = integration_key_create(name=name, kind=kind)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        self.stdout.write(self.style.SUCCESS(f"Integration key {key.prefix}… created for {key.name} ({kind})."))
        self.stdout.write("Give it to the system's administrator now; it cannot be shown again:")
        self.stdout.write(raw_key)
