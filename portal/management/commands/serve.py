import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = ("Run daphne, a django-q2 cluster and, when DEMO_CAMERAS_PORT is set, the demo cameras together; "
            "Ctrl-C stops them all (used by `make run`).")

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")

    def handle(self, *args, host, port, **options):
        commands = {
            "web": [sys.executable, "-m", "daphne", "-b", host, "-p", port, "portal.asgi:application"],
            "tasks": [sys.executable, "manage.py", "qcluster"],
        }
        if settings.DEMO_CAMERAS_PORT:
            commands["demo cameras"] = [sys.executable, "manage.py", "demo_cameras",
                                        "--port", str(settings.DEMO_CAMERAS_PORT)]
        processes = {name: subprocess.Popen(command) for name, command in commands.items()}  # noqa: S603
        url = f"http://{host}:{port}/"
        self.stdout.write(self.style.SUCCESS(f"Portal at {url}  (Ctrl-C stops the web server and the task cluster)"))
        if settings.SITE_URL.rstrip("/") != url.rstrip("/"):
            self.stdout.write(self.style.WARNING(f"Links in e-mails point at SITE_URL={settings.SITE_URL}, not {url}"))
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                exited = [name for name, process in processes.items() if process.poll() is not None]
                if exited:
                    self.stderr.write(f"{', '.join(exited)} stopped; stopping the rest.")
                    break
                time.sleep(0.5)
        except KeyboardInterrupt:
            # Ctrl-C in a terminal reached every process of the group: a second SIGINT can land inside
            # django-q2's signal handler, which then deadlocks and leaves the cluster's workers running.
            wait_for(processes.values(), seconds=5)
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in processes.values():
            if not wait_for([process], seconds=15):
                process.kill()


def wait_for(processes, *, seconds):
    """Wait up to `seconds` in all for the processes to exit; True if they all did."""
    deadline = time.monotonic() + seconds
    try:
        for process in processes:
            process.wait(timeout=max(0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        return False
    return True
