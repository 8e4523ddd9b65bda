"""The container files, checked without Docker: Dockerfile, .dockerignore, compose.yaml, the
example env file and the gateway's configuration agree with the project they package."""

import importlib
import importlib.util
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from django.conf import settings
from django.core.management import get_commands
from django.urls import reverse

from portal.tests import deploy_files as files

ROOT = files.ROOT
MANAGE_COMMAND = re.compile(r"manage\.py['\"]?,?\s+['\"]?([a-z_]+)")
APPLICATION_PATH = re.compile(r"\b([a-z_][a-z0-9_.]*):([a-z_][a-z0-9_]*)\b", re.IGNORECASE)
# The runtime's own variables an image may set besides the portal's settings.
RUNTIME_VARIABLES = {"PATH", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PIP_NO_CACHE_DIR",
                     "PIP_DISABLE_PIP_VERSION_CHECK", "DJANGO_SETTINGS_MODULE"}
BUILD_ONLY = ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS")
SECRETS = ("SECRET_KEY", "POSTGRES_PASSWORD", "FOOTAGE_STORAGE_ACCESS_KEY", "FOOTAGE_STORAGE_SECRET_KEY", "EMAIL_URL")


def instructions(keyword):
    return [arguments for name, arguments in files.dockerfile_instructions() if name == keyword]


def image_environment():
    environment = {}
    for arguments in instructions("ENV"):
        for word in files.exec_form(arguments):
            name, _, value = word.partition("=")
            environment[name] = value
    return environment


def app_stage_workdir():
    return PurePosixPath(instructions("WORKDIR")[-1])


def portal_services():
    services = files.compose()["services"]
    return {name: services[name] for name in files.PORTAL_SERVICES}


# --- compose.yaml and the example env file ------------------------------------------------------

@pytest.mark.parametrize("service", files.PORTAL_SERVICES)
def test_compose_gives_the_portal_only_variables_settings_reads(service):
    unknown = set(files.service_environment(service)) - files.settings_variables()

    assert not unknown, f"{service} sets variables portal/settings.py does not read: {sorted(unknown)}"


def test_the_image_sets_only_portal_and_runtime_variables():
    unknown = set(image_environment()) - files.settings_variables() - RUNTIME_VARIABLES

    assert not unknown, f"the Dockerfile's ENV sets variables nothing reads: {sorted(unknown)}"


def test_the_example_env_file_holds_exactly_what_compose_asks_for():
    example = set(files.read_env_file(files.ENV_EXAMPLE))
    asked = set(files.compose_references())

    assert asked - example == set(), "compose.yaml reads variables the example file does not offer"
    assert example - asked == set(), "the example file offers variables compose.yaml never reads"


def test_secrets_are_blank_in_the_example_and_compose_refuses_to_start_without_them():
    example = files.read_env_file(files.ENV_EXAMPLE)
    required = {name for name, modifier in files.compose_references().items() if modifier == ":?"}

    assert {name: example[name] for name in SECRETS} == dict.fromkeys(SECRETS, "")
    assert set(SECRETS) <= required
    # Every blank a city must fill in is one the tests know how to fill, and nothing else is blank and required.
    assert {name for name in required if not example[name]} == set(files.FILLED_IN)


def test_secrets_stay_out_of_git_and_of_the_build_context():
    assert ".env" in (ROOT / ".gitignore").read_text().split()
    assert files.ignored_by_dockerignore(".env")
    for folder in (".git", ".venv", "node_modules", "var", "test-artifacts"):
        assert files.ignored_by_dockerignore(folder), folder


def test_the_portal_services_run_one_image_after_the_migrations():
    services = portal_services()

    assert len({service["image"] for service in services.values()}) == 1
    assert all(service.get("build") == "." for service in services.values())
    assert "migrate" in files.command_text("migrate")
    for name in ("web", "worker"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert services[name]["depends_on"]["db"] == {"condition": "service_healthy"}
    # The image's health check asks daphne on port 8000, which only web runs.
    assert "healthcheck" not in services["web"]
    assert services["worker"]["healthcheck"] == {"disable": True}
    assert services["migrate"]["healthcheck"] == {"disable": True}


def test_every_image_has_a_pinned_tag_and_the_stores_have_health_checks():
    services = files.compose()["services"]
    images = [service["image"] for service in services.values()] + [
        arguments.split()[0] for arguments in instructions("FROM")]

    for image in images:
        name, _, tag = image.rpartition(":")
        assert name and tag and tag != "latest", f"{image} has no pinned tag"
    for name in ("db", "redis", "s3"):
        assert services[name]["healthcheck"]["test"][0] == "CMD", name


def test_web_and_worker_use_the_bucket_the_storage_service_creates():
    environment = files.service_environment("web", files.filled_in_example())
    storage = urlsplit(environment["FOOTAGE_STORAGE_URL"])
    endpoint = urlsplit(parse_qs(storage.query)["endpoint"][0])
    s3 = files.compose()["services"]["s3"]

    assert storage.scheme == "s3"
    assert f"-name {storage.netloc}" in files.command_text("s3-bucket")
    assert f"Write:{storage.netloc}" in files.command_text("s3")
    assert endpoint.hostname == "s3" and f"-s3.port={endpoint.port}" in files.command_text("s3")
    # The store accepts the keys the portal signs with: both come from the same lines of .env.
    assert files.references(s3["environment"]["S3_ACCESS_KEY"]) == {"FOOTAGE_STORAGE_ACCESS_KEY": ":?"}
    assert files.references(s3["environment"]["S3_SECRET_KEY"]) == {"FOOTAGE_STORAGE_SECRET_KEY": ":?"}
    for name in ("web", "worker"):
        assert portal_services()[name]["depends_on"]["s3-bucket"] == {"condition": "service_completed_successfully"}


def test_mediamtx_asks_the_portals_hook_and_serves_the_hls_the_portal_fetches():
    gateway = yaml.safe_load((ROOT / "deploy" / "mediamtx.yml").read_text())
    hook = urlsplit(gateway["authHTTPAddress"])
    environment = files.service_environment("web", files.filled_in_example())
    hls = urlsplit(environment["MEDIA_GATEWAY_HLS_URL"])
    mediamtx = files.compose()["services"]["mediamtx"]

    assert gateway["authMethod"] == "http"
    assert gateway["authHTTPExclude"] == []
    assert (hook.scheme, hook.path) == ("http", reverse("api-media-auth"))
    assert hook.hostname in environment["ALLOWED_HOSTS"].split(",")
    assert f"-p {hook.port}" in files.command_text(hook.hostname)
    assert gateway["hls"] is True and gateway["hlsAddress"] == f":{hls.port}"
    assert hls.hostname == "mediamtx" and hls.path == "/{path}/index.m3u8"
    assert "./deploy/mediamtx.yml:/mediamtx.yml:ro" in mediamtx["volumes"]
    assert "ports" not in mediamtx  # browsers never reach the gateway


def test_the_proxy_forwards_to_web_and_web_trusts_what_it_sets():
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    environment = files.service_environment("web", files.filled_in_example())

    assert "reverse_proxy web:8000" in caddyfile
    assert environment["TRUST_X_FORWARDED_PROTO"] == "1"
    assert "--proxy-headers" in files.command_text("web")
    assert environment["CSRF_TRUSTED_ORIGINS"] == f"https://{files.filled_in_example()['PORTAL_DOMAIN']}"
    assert "ports" not in files.compose()["services"]["web"]  # only through the proxy


# --- What the image runs ------------------------------------------------------------------------

def commands_run():
    compose_commands = [files.command_text(name) for name in files.compose()["services"]]
    return " ".join(instructions("RUN") + instructions("CMD") + compose_commands)


def test_every_manage_py_command_the_image_and_compose_run_exists():
    commands = set(MANAGE_COMMAND.findall(commands_run()))

    assert {"collectstatic", "migrate", "qcluster"} <= commands
    assert commands - set(get_commands()) == set()


def test_the_asgi_application_daphne_serves_imports(settings):
    settings.SERVER_GC_TUNING = False  # importing portal.asgi here must not retune the test process
    daphne_commands = [text for text in (instructions("CMD")[0], files.command_text("web")) if "daphne" in text]
    paths = {match for text in daphne_commands for match in APPLICATION_PATH.findall(text)}

    assert paths == {("portal.asgi", "application")}
    assert len(daphne_commands) == 2
    module, attribute = paths.pop()
    assert callable(getattr(importlib.import_module(module), attribute))
    assert settings.ASGI_APPLICATION == f"{module}.{attribute}"


def test_every_file_the_dockerfile_copies_is_in_the_build_context():
    local_copies = [(sources, destination) for flags, sources, destination in files.copy_instructions()
                    if "from" not in flags]

    for sources, _destination in local_copies:
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: no such file in the repository"
            assert not files.ignored_by_dockerignore(source.rstrip("/")), f"COPY {source}: left out by .dockerignore"
    copied = {source.rstrip("/") for sources, _ in local_copies for source in sources}
    apps = {name.split(".")[0] for name in settings.INSTALLED_APPS if (ROOT / name.split(".")[0]).is_dir()}
    assert apps | {"manage.py", "templates", "static", "locale"} <= copied


def test_the_image_copies_the_node_modules_folders_settings_serves():
    served = {Path(entry[1]).relative_to(ROOT).as_posix() for entry in settings.STATICFILES_DIRS
              if isinstance(entry, tuple) and "node_modules" in Path(entry[1]).parts}
    copied = {destination: sources[0] for flags, sources, destination in files.copy_instructions()
              if flags.get("from") == "frontend"}

    assert set(copied) == served  # relative to the app stage's WORKDIR, like BASE_DIR
    assert app_stage_workdir() == PurePosixPath("/app")
    for destination, source in copied.items():
        assert source == f"/build/{destination}"  # the Node stage runs npm ci in /build
        assert (ROOT / destination).is_dir(), f"{destination} is not in node_modules after npm ci"
    assert ["package.json", "package-lock.json"] in [sources for _, sources, _ in files.copy_instructions()]


def test_the_health_check_asks_the_portals_health_url_on_daphnes_port():
    healthcheck = instructions("HEALTHCHECK")[0]
    words = files.exec_form(healthcheck[healthcheck.index("CMD") + 3:].strip())
    script = ROOT / words[1]
    spec = importlib.util.spec_from_file_location("container_healthcheck", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    assert words[:2] == ["python", "deploy/healthcheck.py"]
    assert ["deploy/healthcheck.py"] in [sources for _, sources, _ in files.copy_instructions()]
    assert module.PATH == reverse("portal:healthz")
    daphne = files.exec_form(instructions("CMD")[0])
    assert words[2] == instructions("EXPOSE")[0] == daphne[daphne.index("-p") + 1]


def test_build_only_settings_never_reach_the_image_environment():
    collectstatic = next(run for run in instructions("RUN") if "collectstatic" in run)
    declared = set(image_environment()) | {arguments.split("=")[0] for arguments in instructions("ARG")}

    for name in BUILD_ONLY:
        assert re.search(rf"\b{name}=\S+", collectstatic), f"collectstatic runs without {name}"
        assert name not in declared, f"{name} would stay in the image's environment"


def test_the_image_runs_as_a_user_who_owns_only_var_dir():
    environment = image_environment()
    var_dir = environment["VAR_DIR"]

    assert instructions("USER") == ["portal"]
    assert files.exec_form(instructions("VOLUME")[0]) == [var_dir]
    assert any(f"install -d -o portal -g portal -m 0750 {var_dir}" in run for run in instructions("RUN"))
    # Static files are collected into the image, not into the volume an older release filled.
    assert not PurePosixPath(environment["STATIC_ROOT"]).is_relative_to(var_dir)


# --- The documented production settings, served ---------------------------------------------

def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _request(port, method, path, host, body=None, headers=None):
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(method, path, body=body, headers={"Host": host, **(headers or {})})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status, response.getheader("Location")


@pytest.fixture
def production_daphne(tmp_path):
    """daphne with compose's production settings for web, on SQLite and without Redis or a
    cluster (tasks synchronous), which /healthz then reports as healthy."""
    production = files.production_environment()
    ignored = {"DJANGO_ALLOW_ASYNC_UNSAFE", "TASKS_SYNC", *production}
    environment = {key: value for key, value in os.environ.items() if key not in ignored}
    for name in ("DATABASE_URL", "REDIS_URL", "FOOTAGE_STORAGE_URL"):
        production.pop(name)
    environment.update(production, VAR_DIR=str(tmp_path), TASKS_SYNC="1", STATIC_ROOT=str(tmp_path / "static"),
                       DATABASE_URL=f"sqlite:///{tmp_path / 'portal.sqlite3'}")
    port = _free_port()
    log = (tmp_path / "daphne.log").open("w")
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "portal.asgi:application"],
        cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"daphne did not start: {(tmp_path / 'daphne.log').read_text()[-2000:]}")
            time.sleep(0.2)
    yield port, environment
    process.terminate()
    process.wait(timeout=30)
    log.close()


def test_the_health_check_passes_over_plain_http_with_the_production_settings(production_daphne):
    port, environment = production_daphne
    domain = files.filled_in_example()["PORTAL_DOMAIN"]

    check = subprocess.run([sys.executable, "deploy/healthcheck.py", str(port)], cwd=ROOT, env=environment,  # noqa: S603
                           capture_output=True, text=True, timeout=30)

    assert check.returncode == 0, check.stderr
    # ... while everything else is redirected to HTTPS, unless the proxy says it came over HTTPS,
    assert _request(port, "GET", "/", domain) == (301, f"https://{domain}/")
    assert _request(port, "GET", reverse("api-me"), domain, headers={"X-Forwarded-Proto": "https"}) == (403, None)
    # and the media gateway's hook answers MediaMTX on the private network (refused: a malformed body).
    assert _request(port, "POST", reverse("api-media-auth"), "web:8000", body='{"action": ["read"]}',
                    headers={"Content-Type": "application/json"}) == (401, None)
