"""Database connections across processes."""

import os

from django.conf import settings


def close_connection_pools():
    """Close this process's PostgreSQL connection pools (they reopen on the next query).

    Run before every fork: a child that inherited a pool would hand out the parent's open
    connections, and two processes talking over one socket corrupt both sessions. django-q2
    forks its workers; it returns the connections it holds to the pool first, which is not enough.
    """
    from django.db import connections
    from django.db.backends.postgresql.base import DatabaseWrapper

    connections.close_all()
    for alias in list(DatabaseWrapper._connection_pools):
        DatabaseWrapper._connection_pools.pop(alias).close()


def close_connection_pools_before_fork():
    if any(database.get("OPTIONS", {}).get("pool") for database in settings.DATABASES.values()):
        os.register_at_fork(before=close_connection_pools)
