"""Throw-away PostgreSQL databases for the benchmarks (never the developer's own)."""

import sys


def postgres_admin_connection(url):
    """An autocommit connection to the server's `postgres` database, and the bench database's name."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = conninfo_to_dict(url).get("dbname")
    if not name or name == "postgres":
        sys.exit("BENCH_DATABASE_URL must name a database of its own, e.g. .../portal_bench.")
    return psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True), name


def create_postgres_database(url):
    from psycopg import sql

    admin, name = postgres_admin_connection(url)
    with admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            sys.exit(f"Database {name!r} already exists; the benchmark only uses a database it creates "
                     f"(and drops afterwards). Choose another name, or drop it: dropdb {name}")
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_postgres_database(url):
    from psycopg import sql

    admin, name = postgres_admin_connection(url)
    with admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
