from django.core.management.base import BaseCommand

from cameras.demo_camera import DemoCameraServer


class Command(BaseCommand):
    help = "Serve the demo city's camera pictures on 127.0.0.1 (started by `make run`; never in production)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8001)

    def handle(self, *args, port, **options):
        server = DemoCameraServer(port)
        self.stdout.write(f"Demo cameras at http://127.0.0.1:{port}/cam/<n>/mjpeg")
        try:
            server.serve_forever(poll_interval=0.5)
        except KeyboardInterrupt:
            pass
        finally:
            server.shutdown()
            server.server_close()
