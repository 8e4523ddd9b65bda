import errno
import stat
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal import directories
from portal.directories import ensure_folder
from portal.tests.test_settings import run_manage

# A fresh clone's environment: the defaults for everything but VAR_DIR (an empty value counts as unset).
FRESH = {"FOOTAGE_ROOT": "", "FOOTAGE_STORAGE_URL": "", "DATABASE_URL": "", "REDIS_URL": ""}


def test_migrate_creates_a_missing_var_dir_and_the_folders_inside(tmp_path):
    var_dir = tmp_path / "not" / "yet" / "var"

    result = run_manage("migrate", "--noinput", env={**FRESH, "VAR_DIR": str(var_dir)})

    assert result.returncode == 0, result.stdout + result.stderr
    assert (var_dir / "portal.sqlite3").is_file()
    assert (var_dir / "cache").is_dir()
    assert stat.S_IMODE((var_dir / "footage").stat().st_mode) == 0o700


def test_a_file_in_the_way_of_var_dir_stops_start_up_with_a_clear_message(tmp_path):
    (tmp_path / "occupied").write_text("not a folder")

    result = run_manage("migrate", "--noinput", env={**FRESH, "VAR_DIR": str(tmp_path / "occupied" / "var")})

    assert result.returncode != 0
    assert (f"Cannot create the portal's folder {tmp_path}/occupied/var: {tmp_path}/occupied is a file, not a folder"
            in result.stderr)
    assert "Set VAR_DIR to a folder" in result.stderr
    assert "unable to open database file" not in result.stderr


def test_postgres_redis_and_object_storage_need_no_local_folder_but_var_dir(tmp_path):
    var_dir = tmp_path / "var"

    result = run_manage("check", env={"VAR_DIR": str(var_dir), "FOOTAGE_ROOT": "",
                                      "DATABASE_URL": "postgres://portal@db.city.example:5432/portal",
                                      "REDIS_URL": "redis://cache.city.example:6379/0",
                                      "FOOTAGE_STORAGE_URL": "s3://footage-bucket/portal"})

    assert result.returncode == 0, result.stdout + result.stderr
    assert list(var_dir.iterdir()) == []


def test_a_sqlite_file_elsewhere_gets_its_folder_and_names_database_url_on_failure(tmp_path):
    (tmp_path / "occupied").write_text("not a folder")
    env = {**FRESH, "VAR_DIR": str(tmp_path / "var")}

    made = run_manage("check", env={**env, "DATABASE_URL": f"sqlite:///{tmp_path}/db/portal.sqlite3"})
    refused = run_manage("check", env={**env, "DATABASE_URL": f"sqlite:///{tmp_path}/occupied/portal.sqlite3"})

    assert made.returncode == 0, made.stdout + made.stderr
    assert (tmp_path / "db").is_dir()
    assert refused.returncode != 0
    assert "Cannot create the SQLite database's folder" in refused.stderr
    assert "Set DATABASE_URL to a folder" in refused.stderr


def test_an_existing_folder_is_left_as_it_is(tmp_path):
    folder = tmp_path / "footage"
    folder.mkdir(mode=0o750)

    ensure_folder(folder, variable="FOOTAGE_ROOT", purpose="the private footage folder", private=True)

    assert stat.S_IMODE(folder.stat().st_mode) == 0o750


def test_a_read_only_file_system_is_named(tmp_path, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)

    with pytest.raises(ImproperlyConfigured, match=r"the file system is read-only\. Set FOOTAGE_ROOT to"):
        ensure_folder(tmp_path / "footage", variable="FOOTAGE_ROOT", purpose="the private footage folder")


def test_a_folder_the_portal_may_not_write_to_is_refused(tmp_path, monkeypatch):
    # The suite may run as root, for whom chmod denies nothing, so the permission check is answered here.
    monkeypatch.setattr(directories.os, "access", lambda path, mode: False)

    with pytest.raises(ImproperlyConfigured, match=r"Cannot write to the file cache's folder .*: permission denied\. "
                                                   r"Give the user running the portal write access"):
        ensure_folder(tmp_path, variable="VAR_DIR", purpose="the file cache's folder")
    ensure_folder(tmp_path, variable="VAR_DIR", purpose="the portal's folder", writable=False)
