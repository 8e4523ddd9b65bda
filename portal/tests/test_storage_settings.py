"""FOOTAGE_STORAGE_URL: footage in an S3 bucket, read from the environment like every other setting."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal.env import env_storage_url
from portal.tests.test_settings import run_manage


def test_a_bucket_with_a_prefix_and_an_s3_compatible_endpoint(monkeypatch):
    monkeypatch.setenv("FOOTAGE_STORAGE_URL", "s3://city-footage/portal/prod?endpoint=http://s3.internal:8333&region=eu-west-1")

    assert env_storage_url("FOOTAGE_STORAGE_URL") == {
        "bucket_name": "city-footage", "location": "portal/prod", "endpoint_url": "http://s3.internal:8333",
        "region_name": "eu-west-1", "addressing_style": "path"}


def test_aws_needs_no_endpoint_and_keeps_its_own_addressing(monkeypatch):
    monkeypatch.setenv("FOOTAGE_STORAGE_URL", "s3://city-footage")

    assert env_storage_url("FOOTAGE_STORAGE_URL") == {
        "bucket_name": "city-footage", "location": "", "endpoint_url": None, "region_name": None,
        "addressing_style": None}


def test_unset_means_local_disk(monkeypatch):
    monkeypatch.delenv("FOOTAGE_STORAGE_URL", raising=False)

    assert env_storage_url("FOOTAGE_STORAGE_URL") is None


@pytest.mark.parametrize(("value", "message"), [
    ("https://s3.example.org/bucket", "is not a storage URL"),
    ("s3://KEY:SECRET@bucket", "is not a storage URL"),
    ("s3://Bad_Bucket", "is not a storage URL"),
    ("s3://bucket?endpoint=s3.example.org", "endpoint must be an http:// or https:// address"),
    ("s3://bucket?bucket=other", "unknown or repeated options (bucket)"),
    ("s3://bucket?region=a&region=b", "unknown or repeated options"),
    ("s3://bucket?addressing=sideways", "addressing must be 'path' or 'virtual'"),
])
def test_a_wrong_storage_url_stops_start_up_saying_how_to_write_it(monkeypatch, value, message):
    monkeypatch.setenv("FOOTAGE_STORAGE_URL", value)

    with pytest.raises(ImproperlyConfigured) as error:
        env_storage_url("FOOTAGE_STORAGE_URL")

    assert message in str(error.value)


def test_the_portal_keeps_footage_in_the_bucket_when_told(tmp_path):
    script = ("from django.core.files.storage import storages; s = storages['footage']; "
              "print(type(s).__name__, s.bucket_name, s.location, s.endpoint_url, s.access_key)")
    result = run_manage("shell", "--no-imports", "-c", script, env={
        "VAR_DIR": str(tmp_path), "FOOTAGE_STORAGE_URL": "s3://footage/city?endpoint=http://127.0.0.1:8333",
        "FOOTAGE_STORAGE_ACCESS_KEY": "portal", "FOOTAGE_STORAGE_SECRET_KEY": "secret"})

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["S3FootageStorage", "footage", "city", "http://127.0.0.1:8333", "portal"]


def test_without_a_bucket_footage_stays_in_the_private_folder(tmp_path):
    script = ("from django.core.files.storage import storages; s = storages['footage']; "
              "print(type(s).__name__, s.location)")
    result = run_manage("shell", "--no-imports", "-c", script,
                        env={"VAR_DIR": str(tmp_path), "FOOTAGE_ROOT": str(tmp_path / "f")})

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["LocalFootageStorage", str(tmp_path / "f")]
