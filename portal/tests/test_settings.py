import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal.env import env_bool, env_database, env_email, env_int, env_list, env_rate, env_redis_url
from portal.tests.deploy_files import production_environment

ROOT = Path(__file__).resolve().parents[2]

# What the documentation tells a city to run: compose.yaml's settings for web, from
# deploy/portal.env.example with its blanks (the secrets) filled in.
PRODUCTION = production_environment()


def run_manage(*args, env):
    # A deployment's environment: none of the test run's own switches.
    ignored = set(PRODUCTION) | {"DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE", "TASKS_SYNC"}
    clean = {key: value for key, value in os.environ.items() if key not in ignored}
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_without_a_secret_key_refuses_to_start():
    env = {key: value for key, value in PRODUCTION.items() if key != "SECRET_KEY"}

    result = run_manage("check", env=env)

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_a_misspelt_boolean_stops_start_up():
    result = run_manage("check", env={"DEBUG": "flase"})

    assert result.returncode != 0
    assert "DEBUG='flase' is not a boolean" in result.stderr


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("yes", True), ("ON", True), ("0", False),
                                                 ("off", False), ("", True)])
def test_env_bool_reads_the_usual_spellings(monkeypatch, value, expected):
    monkeypatch.setenv("FLAG", value)

    assert env_bool("FLAG", True) is expected


def test_env_int_refuses_words_and_values_below_the_minimum(monkeypatch):
    monkeypatch.setenv("WORKERS", "two")
    with pytest.raises(ImproperlyConfigured, match="not a whole number"):
        env_int("WORKERS", 2)
    monkeypatch.setenv("WORKERS", "0")
    with pytest.raises(ImproperlyConfigured, match="below the minimum of 1"):
        env_int("WORKERS", 2, minimum=1)


def test_env_list_splits_on_commas(monkeypatch):
    monkeypatch.setenv("HOSTS", " a.example , b.example,,")

    assert env_list("HOSTS", []) == ["a.example", "b.example"]


def test_database_urls_must_be_sqlite_or_postgres(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql://root@localhost/portal")
    with pytest.raises(ImproperlyConfigured, match="sqlite:// or postgres://"):
        env_database("DATABASE_URL", "sqlite:///x.sqlite3")
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal")
    assert env_database("DATABASE_URL", "")["NAME"] == "portal"


def test_email_and_redis_urls_are_checked(monkeypatch):
    monkeypatch.setenv("EMAIL_URL", "smtp+tls://user:pw@mail.example:587")
    assert env_email("EMAIL_URL")["EMAIL_USE_TLS"] is True
    monkeypatch.setenv("REDIS_URL", "127.0.0.1:6379")
    with pytest.raises(ImproperlyConfigured, match="redis://"):
        env_redis_url("REDIS_URL")


def test_task_retry_outlasts_the_timeout():
    from django.conf import settings

    assert settings.Q_CLUSTER["retry"] > settings.Q_CLUSTER["timeout"]


def test_rate_limits_are_checked(monkeypatch):
    assert env_rate("CAD_RATE_LIMIT", "120/min") == "120/min"
    monkeypatch.setenv("CAD_RATE_LIMIT", "10/s")
    assert env_rate("CAD_RATE_LIMIT", "120/min") == "10/s"
    for bad in ("fast", "120", "0/min", "120/fortnight"):
        monkeypatch.setenv("CAD_RATE_LIMIT", bad)
        with pytest.raises(ImproperlyConfigured, match="not a rate"):
            env_rate("CAD_RATE_LIMIT", "120/min")
