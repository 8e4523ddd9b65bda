"""Server processes for the benchmarks: a daphne on a free port, and its memory from /proc."""

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SAMPLE_INTERVAL_S = 0.05


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_daphne(port, log, env=None, args=()):
    """daphne serving the portal on 127.0.0.1:port with this environment (plus env) and extra command-line
    arguments (e.g. --proxy-headers), once it listens."""
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), *args, "portal.asgi:application"]
    process = subprocess.Popen(command, cwd=BASE_DIR, env={**os.environ, **(env or {})},  # noqa: S603  (our own command)
                               stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"daphne exited at start with status {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError("daphne did not start listening within 60 s")


def stop_process(process):
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def proc_status_kb(pid, *fields):
    """Fields of /proc/<pid>/status given in kB (VmRSS, VmHWM), as numbers of KiB."""
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, rest = line.partition(":")
            if name in fields:
                values[name] = int(rest.split()[0])
    return values


class RssSampler(threading.Thread):
    """Reads a process's VmRSS every SAMPLE_INTERVAL_S until stopped; keeps the samples in KiB."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.samples = []
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            try:
                self.samples.append(proc_status_kb(self.pid, "VmRSS")["VmRSS"])
            except (FileNotFoundError, ProcessLookupError, KeyError):
                return  # the process is gone
            self.halt.wait(SAMPLE_INTERVAL_S)

    def stop(self):
        self.halt.set()
        self.join(5)


def process_tree(pid):
    """pid and all its descendants (from /proc/<pid>/task/*/children)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    pending.extend(int(child) for child in children.read().split())
        except (FileNotFoundError, ProcessLookupError):
            continue  # the process or thread ended meanwhile
    return found


def cpu_seconds(pid):
    """User + system CPU time a process has used so far (utime + stime from /proc/<pid>/stat); 0 if gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu():
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat; idle and iowait are not busy."""
    with open("/proc/stat") as stat:
        values = [int(value) for value in stat.readline().split()[1:]]
    return sum(values) - values[3] - values[4], sum(values)


def busy_cpus(before, after):
    """How many CPUs were busy on average between two machine_cpu() readings (whoever used them)."""
    busy, total = after[0] - before[0], after[1] - before[1]
    return busy / total * os.cpu_count() if total else 0.0


def report_log_errors(logs, limit=None):
    """Print each log's distinct error lines (at most `limit` per log) and return how many tracebacks they hold."""
    from pathlib import Path

    tracebacks = 0
    for log in logs:
        text = Path(log.name).read_text(errors="replace")
        tracebacks += text.count("Traceback")
        errors = sorted({line for line in text.splitlines()
                         if line and not line.startswith((" ", "Traceback", "During handling"))
                         and ("Error" in line or "Exception" in line)})
        for error in errors[:limit]:
            print(f"  {Path(log.name).name}: {error[:300]}")
    return tracebacks
