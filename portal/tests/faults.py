"""Real faults for tests: a TCP proxy that can drop every connection, and a private Redis server.

Neither mocks anything: the portal talks to the real PostgreSQL or Redis through real sockets, and a
"restart" closes those sockets and refuses new ones until the service is back.
"""

import shutil
import socket
import subprocess
import tempfile
import threading
import time

import pytest


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TcpProxy:
    """Forwards 127.0.0.1:port to (host, target_port). cut() drops every connection and refuses new ones,
    as a server that restarts does; restore() listens again on the same port."""

    def __init__(self, host, target_port):
        self.target = (host, target_port)
        self.port = free_port()
        self._pairs = set()
        self._lock = threading.Lock()
        self._listener = None
        self.accepted = 0
        self.hanging_up = False
        self.hung_up_at = []  # time.monotonic() of each connection hung up on while hanging_up
        self.restore()

    def restore(self):
        self.hanging_up = False
        if self._listener is not None:
            return
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self, keep_listening=False):
        """Close every open connection, both sides, at once, and the listener (new connections are refused);
        or, keep_listening, accept new connections and hang up on each at once, noting when."""
        self.hanging_up = keep_listening
        listener = self._listener
        if not keep_listening:
            self._listener = None
        if listener is not None and not keep_listening:
            try:
                listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread: close() alone would not
            except OSError:
                pass
            listener.close()
        with self._lock:
            pairs, self._pairs = self._pairs, set()
        for pair in pairs:
            for sock in pair:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
        return len(pairs)

    def open_connections(self):
        with self._lock:
            return len(self._pairs)

    def _accept(self, listener):
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return  # cut
            if self.hanging_up:
                self.hung_up_at.append(time.monotonic())
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            pair = (client, upstream)
            with self._lock:
                self._pairs.add(pair)
                self.accepted += 1
            for source, sink in (pair, pair[::-1]):
                threading.Thread(target=self._pump, args=(source, sink, pair), daemon=True).start()

    def _pump(self, source, sink, pair):
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            with self._lock:
                self._pairs.discard(pair)
            for sock in pair:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def redis_binary():
    return shutil.which("redis-server")


class RedisServer:
    """A redis-server of this test's own on a free port (never the machine's shared one), stopped and
    started again on the same port."""

    def __init__(self):
        self.port = free_port()
        self.folder = tempfile.mkdtemp(prefix="portal-test-redis-")
        self.process = None
        self.start()

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(  # noqa: S603  (a fixed binary, our own arguments)
            [redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self.folder],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        """SIGKILL: Redis goes away as a crashed server does, every client's socket with it."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def close(self):
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(name="redis_server")
def redis_server_fixture():
    """A private redis-server for this test (skipped without the binary); stopped and removed afterwards."""
    if redis_binary() is None:
        pytest.skip("needs redis-server (apt-get install redis-server)")
    server = RedisServer()
    yield server
    server.close()
