"""Demo cameras for `make run`: MJPEG streams and snapshots drawn on the fly, on 127.0.0.1 only.

The demo city's integrated business cameras point here (see portal/demo.py), so the RTCC's video
wall shows moving pictures without any real camera. Each picture shows the camera's number and the
time, so a viewer can see that it is live.

    /cam/<n>/mjpeg          multipart/x-mixed-replace, DEMO_FPS frames a second, until the client leaves
    /cam/<n>/snapshot.jpg   one picture
"""

import io
import logging
import math
import re
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image, ImageDraw, ImageFont

SIZE = (640, 360)
DEMO_FPS = 5
BOUNDARY = "demo-camera-frame"
PATH = re.compile(r"^/cam/(?P<number>\d{1,4})/(?P<kind>mjpeg|snapshot\.jpg)$")
COLOURS = [(38, 70, 83), (42, 157, 143), (94, 84, 142), (120, 80, 40), (60, 90, 130), (110, 50, 60)]
logger = logging.getLogger(__name__)


def demo_frame(number, at=None):
    """A JPEG picture for demo camera `number`: a street-like scene, a moving car, the time."""
    at = at or time.time()
    width, height = SIZE
    image = Image.new("RGB", SIZE, COLOURS[number % len(COLOURS)])
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, height * 0.55, width, height), fill=(70, 70, 72))  # the road
    for x in range(0, width, 80):
        draw.rectangle((x + 10, height * 0.76, x + 50, height * 0.78), fill=(230, 230, 230))
    draw.rectangle((30, 40, 220, height * 0.55), fill=(200, 190, 170), outline=(60, 60, 60), width=2)  # a shopfront
    car = (at * 120 + number * 97) % (width + 160) - 160
    draw.rounded_rectangle((car, height * 0.62, car + 150, height * 0.72), radius=12, fill=(200, 40, 40))
    draw.ellipse((car + 20, height * 0.69, car + 50, height * 0.77), fill=(20, 20, 20))
    draw.ellipse((car + 100, height * 0.69, car + 130, height * 0.77), fill=(20, 20, 20))
    blink = (0, 200, 0) if math.floor(at * 2) % 2 else (0, 90, 0)
    draw.ellipse((width - 34, 14, width - 18, 30), fill=blink)
    font = ImageFont.load_default()
    draw.rectangle((0, 0, width, 26), fill=(0, 0, 0))
    stamp = datetime.fromtimestamp(at).strftime("%Y-%m-%d %H:%M:%S")
    draw.text((8, 7), f"DEMO CAMERA {number}   {stamp}", fill=(255, 255, 255), font=font)
    output = io.BytesIO()
    image.save(output, format="JPEG", quality=70)
    return output.getvalue()


class _Handler(BaseHTTPRequestHandler):
    server_version = "DemoCamera/1"

    def log_message(self, format, *args):  # noqa: A002  (the base class's name)
        logger.debug(format, *args)

    def do_GET(self):  # noqa: N802  (http.server's name)
        match = PATH.match(self.path)
        if not match:
            self.send_error(404)
            return
        number = int(match["number"])
        if match["kind"] == "snapshot.jpg":
            frame = demo_frame(number)
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(frame)))
            self.end_headers()
            self.wfile.write(frame)
            return
        self.send_response(200)
        self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
        self.end_headers()
        try:
            while not self.server.stopping.is_set():
                frame = demo_frame(number)
                self.wfile.write(f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(frame)}\r\n\r\n"
                                 .encode() + frame + b"\r\n")
                self.wfile.flush()
                self.server.stopping.wait(1 / DEMO_FPS)
        except (BrokenPipeError, ConnectionResetError):
            pass


class DemoCameraServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port):
        super().__init__(("127.0.0.1", port), _Handler)
        self.stopping = threading.Event()

    def shutdown(self):
        self.stopping.set()
        super().shutdown()
