import gzip

from django.core.management.base import BaseCommand, CommandError

from cameras.geocoding import AddressFileError, address_import


class Command(BaseCommand):
    help = ("Import street addresses for the camera form's address search from an OpenAddresses-style CSV "
            "(LON,LAT,NUMBER,STREET,UNIT,CITY,DISTRICT,REGION,POSTCODE,ID,HASH; .csv or .csv.gz). "
            "Running it again with the same file adds nothing.")

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV file (.csv or .csv.gz)")
        parser.add_argument("--replace", action="store_true",
                            help="remove every stored address first (in the same transaction)")

    def handle(self, *args, file, replace, **options):
        opener = gzip.open if file.endswith(".gz") else open
        try:
            with opener(file, "rt", newline="", encoding="utf-8-sig") as lines:
                report = address_import(lines=lines, replace=replace)
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror or error}.") from None
        except AddressFileError as error:
            raise CommandError(f"{file}: {error} Nothing was imported.") from None
        if replace:
            self.stdout.write(f"Removed {report.replaced} addresses stored before.")
        self.stdout.write(self.style.SUCCESS(
            f"Read {report.read} rows: imported {report.imported}, already present {report.already_present}, "
            f"skipped {report.skipped_total}."))
        for reason, count in sorted(report.skipped.items()):
            self.stdout.write(self.style.WARNING(f"  skipped {count}: {reason}"))
