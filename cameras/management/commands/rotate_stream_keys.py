from django.core.management.base import BaseCommand

from cameras.services import stream_sources_rotate_keys


class Command(BaseCommand):
    help = "Re-encrypt every stream URL and credential with the first key of STREAM_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        count = stream_sources_rotate_keys()
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {count} stream sources with the newest key."))
