"""Throw-away PostgreSQL databases for the benchmarks (never the developer's own)."""

import os
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


def throwaway_environment(temp_dir, *, extra=None, unset=()):
    """Point Django, here and in any process started from here, at a throw-away database: a new
    SQLite file in temp_dir, or BENCH_DATABASE_URL (a PostgreSQL database the bench creates).

    Whatever the shell exports, the developer's database, cache and var/ are left alone; REDIS_URL
    and the names in `unset` are removed and `extra` is added. Returns the PostgreSQL URL or None.
    """
    bench_url = os.environ.get("BENCH_DATABASE_URL", "").strip() or None
    if bench_url and not bench_url.startswith(("postgres://", "postgresql://")):
        sys.exit("BENCH_DATABASE_URL must be a postgres:// URL.")
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    os.environ["DATABASE_URL"] = bench_url or f"sqlite:///{os.path.join(temp_dir, 'bench.sqlite3')}"
    os.environ["VAR_DIR"] = temp_dir
    for name in ("REDIS_URL", *unset):
        os.environ.pop(name, None)
    os.environ.update(extra or {})
    return bench_url


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
