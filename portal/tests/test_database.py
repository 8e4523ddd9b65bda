"""PostgreSQL connections: pooled across requests, never shared with a forked process."""

import os

import pytest
from django.db import connection, connections

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not connection.settings_dict["OPTIONS"].get("pool"),
                       reason="PostgreSQL with its connection pool (DATABASE_POOL) only"),
]


def backend_pid():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_requests_reuse_pooled_connections_instead_of_opening_new_ones(client):
    seen = set()
    for _ in range(10):
        seen.add(backend_pid())
        client.get("/healthz")  # ends, like every request, by closing its connections
        connections.close_all()

    assert len(seen) <= 2  # without the pool, ten server sessions


def test_a_forked_process_opens_its_own_connection_and_the_parent_keeps_working():
    parent_before = backend_pid()
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover  (runs in the child, which reports through the pipe)
        status = 1
        try:
            os.close(read_end)
            os.write(write_end, str(backend_pid()).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        child_pid = int(pipe.read() or 0)
    _, status = os.waitpid(child, 0)

    parent_after = backend_pid()
    assert os.waitstatus_to_exitcode(status) == 0
    assert child_pid not in (0, parent_before, parent_after)
    with connection.cursor() as cursor:  # the parent's session is intact
        cursor.execute("SELECT count(*) FROM django_migrations")
        assert cursor.fetchone()[0] > 0
