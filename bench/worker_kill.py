"""Fault: a django-q2 worker is killed (SIGKILL) halfway through an area request's 5,000 e-mails.

    .venv/bin/python bench/worker_kill.py
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench_kill .venv/bin/python bench/worker_kill.py

The data, the SMTP server (aiosmtpd, in a process of its own) and the cluster (`manage.py qcluster`,
two workers) are fanout.py's. Once 2,500 owners are marked sent, the script SIGKILLs the worker that
holds an SMTP connection at that moment (so it dies in the middle of a batch). django-q2 starts a new
worker in its place; the e-mails the dead one had claimed stay "sending" until their lease
(requests_app.services.EMAIL_SENDING_LEASE, 5 minutes) runs out, and the scheduled retry job (every
minute) sends them. Nothing is fast-forwarded: a run takes about seven minutes. Then it checks, per
owner, what the SMTP server received: every owner must have exactly one e-mail whose link opens their
request (a repeat is possible only for an e-mail the server accepted in the instant before the worker
recorded it; its link never opens anything). See bench/README.md.
"""

import os
import random
import signal
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import fanout  # noqa: E402
from benchproc import process_tree  # noqa: E402
from fanout import (  # noqa: E402
    OWNERS,
    SEED,
    Cluster,
    create_area_request,
    load,
)

KILL_AFTER = OWNERS // 2
RECOVERY_TIMEOUT_S = 15 * 60


def smtp_clients(pids, smtp_port):
    """The pids among `pids` with a TCP connection open to 127.0.0.1:smtp_port (from /proc)."""
    wanted = f"0100007F:{smtp_port:04X}"
    inodes = set()
    for table in ("/proc/net/tcp",):
        with open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                if fields[2] == wanted and fields[3] == "01":  # remote address, ESTABLISHED
                    inodes.add(fields[9])
    holders = []
    for pid in pids:
        try:
            links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if any(link.startswith("socket:[") and link[8:-1] in inodes for link in links):
            holders.append(pid)
    return holders


def states(area_request):
    from requests_app.models import FootageRequest

    return Counter(FootageRequest.objects.filter(area_request=area_request).values_list("email_state", flat=True))


def working_links_per_owner(messages, area_request):
    """{owner e-mail: links received that open the request}, and how many messages each owner got."""
    from requests_app.models import FootageRequest
    from requests_app.tokens import token_hash

    owner_of_hash = dict(FootageRequest.objects.filter(area_request=area_request).exclude(token_hash=None)
                         .values_list("token_hash", "owner__email"))
    working, received = Counter(), Counter()
    for rcpt_tos, token in messages:
        for address in rcpt_tos:
            received[address] += 1
            if token and owner_of_hash.get(token_hash(token)) == address:
                working[address] += 1
    return working, received


def run(server, temp_dir):
    from django.db import connection
    from django.utils import timezone
    from django_q.models import Schedule

    from requests_app.models import FootageRequest

    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']}); SMTP server aiosmtpd "
          f":{server.port}; {os.cpu_count()} CPUs")
    operator, incident, owners, _cameras = load(random.Random(SEED))  # noqa: S311
    # Only the retry job stays on its schedule (every minute): it is what picks up a dead worker's e-mails.
    Schedule.objects.exclude(func="requests_app.tasks.retry_failed_emails").update(
        next_run=timezone.now() + timedelta(days=1))
    create_s, area_request, _queries = create_area_request(operator, incident)
    print(f"loaded {len(owners):,} owners; area_request_create() in {create_s:.1f} s queued their e-mails "
          f"(one django-q2 task per 100 owners)")

    cluster = Cluster(2, os.path.join(temp_dir, "qcluster.log"))
    ok = False
    try:
        started = time.monotonic()
        sent = FootageRequest.objects.filter(area_request=area_request, email_state=FootageRequest.EmailState.SENT)
        victim = None
        while victim is None:
            if cluster.process.poll() is not None or time.monotonic() - started > 300:
                raise RuntimeError(f"the cluster stopped or sent nothing (see {cluster.log.name})")
            if sent.count() >= KILL_AFTER:
                holders = smtp_clients(process_tree(cluster.process.pid), server.port)
                if holders:
                    victim, processes_before = holders[0], len(process_tree(cluster.process.pid))
                    os.kill(victim, signal.SIGKILL)
                    killed_at = time.monotonic()
                    continue
            time.sleep(0.02)
        at_kill = states(area_request)
        print(f"two workers sending; {at_kill['sent']:,} marked sent when worker pid {victim} (holding an SMTP "
              f"connection) was killed with SIGKILL, {killed_at - started:.1f} s after the cluster started")
        time.sleep(1)
        after_kill = states(area_request)
        print(f"  1 s later: {dict(after_kill)} (the dead worker's claimed e-mails stay 'sending' until their lease)")
        tree = process_tree(cluster.process.pid)
        replaced = victim not in tree and len(tree) == processes_before
        print(f"  django-q2 started a new worker in its place: {'yes' if replaced else 'no'}; cluster still running: "
              f"{'yes' if cluster.process.poll() is None else 'no'}")

        survivors_done = None
        while True:
            now_states = states(area_request)
            if survivors_done is None and now_states["queued"] == 0 and now_states["sending"] <= at_kill["sending"]:
                survivors_done = time.monotonic()
            if now_states["sent"] == OWNERS:
                break
            if time.monotonic() - killed_at > RECOVERY_TIMEOUT_S or cluster.process.poll() is not None:
                print(f"  NOT recovered: {dict(now_states)} (see {cluster.log.name})")
                break
            time.sleep(0.5)
        recovered_at = time.monotonic()
        final = states(area_request)
        if survivors_done:
            print(f"  every e-mail but the dead worker's sent {survivors_done - killed_at:.1f} s after the kill")
        print(f"  all {final['sent']:,} marked sent {recovered_at - killed_at:.1f} s after the kill "
              f"(lease {services_lease()} + the retry job's minute)")
        time.sleep(1)  # the last messages reach the server's list
        messages = server.take()
        working, received = working_links_per_owner(messages, area_request)
        expected = {owner.email for owner in owners}
        exactly_one_link = sum(1 for address in expected if working[address] == 1)
        duplicates = sum(count - 1 for count in received.values() if count > 1)
        dead_links = sum(1 for rcpt_tos, _token in messages for _ in rcpt_tos) - sum(working.values())
        attempts = sum(FootageRequest.objects.filter(area_request=area_request)
                       .values_list("email_attempts", flat=True))
        print(f"SMTP server received {len(messages):,} messages for {len(received):,} distinct owners: "
              f"missing {len(expected - set(received)):,}, duplicates {duplicates:,}, links that open nothing "
              f"{dead_links:,}; send attempts recorded {attempts:,}")
        print(f"owners with exactly one working link: {exactly_one_link:,} of {len(expected):,}; with none: "
              f"{sum(1 for address in expected if working[address] == 0):,}; with more than one: "
              f"{sum(1 for address in expected if working[address] > 1):,}")
        ok = exactly_one_link == len(expected) and final["sent"] == OWNERS
        print(f"nothing lost, one working link each: {'yes' if ok else 'NO'}")
    finally:
        cluster.stop()
    return ok


def services_lease():
    from requests_app.services import EMAIL_SENDING_LEASE

    return f"{EMAIL_SENDING_LEASE.total_seconds() / 60:.0f} min"


def main():
    return fanout.main(run, prefix="portal-bench-kill-")


if __name__ == "__main__":
    sys.exit(main())
