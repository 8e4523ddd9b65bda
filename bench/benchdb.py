"""Throw-away PostgreSQL databases for the benchmarks (never the developer's own)."""

import shutil
import sys
import tempfile
import time


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


def run_on_throwaway_database(prefix, configure_environment, run):
    """Set Django up on a new database (SQLite in a temp dir, or BENCH_DATABASE_URL), migrate,
    call run(temp_dir), and remove everything afterwards. Returns the exit code."""
    started = time.perf_counter()
    temp_dir = tempfile.mkdtemp(prefix=prefix)
    bench_url, created, ok = None, False, False
    try:
        bench_url = configure_environment(temp_dir)
        if bench_url:
            create_postgres_database(bench_url)
            created = True

        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0, interactive=False)
        ok = run(temp_dir)
    finally:
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        if created:
            drop_postgres_database(bench_url)
        shutil.rmtree(temp_dir, ignore_errors=True)
    print(f"total run time: {time.perf_counter() - started:.1f} s")
    return 0 if ok else 1
