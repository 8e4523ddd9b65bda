import io
import signal
import subprocess

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.core.management import CommandError, call_command

from cameras.models import Camera, SharingRules
from portal import roles
from portal.models import User, Waiver, WaiverSignature

pytestmark = pytest.mark.django_db


def run(*args, **options):
    out = io.StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def test_seed_demo_creates_owners_and_staff_with_mfa():
    output = run("seed_demo")

    assert User.objects.owners().count() == 152
    assert User.objects.in_role(roles.OPERATOR).get().email == "operator@example.org"
    assert Authenticator.objects.filter(type=Authenticator.Type.TOTP).count() == 4
    assert "otpauth://totp/operator%40example.org?secret=" in output
    assert EmailAddress.objects.filter(verified=True).count() == User.objects.count()


def test_seed_demo_is_idempotent_and_keeps_totp_secrets():
    first = run("seed_demo")
    counts = (User.objects.count(), Camera.objects.count(), WaiverSignature.objects.count())
    second = run("seed_demo")

    assert first == second
    assert (User.objects.count(), Camera.objects.count(), WaiverSignature.objects.count()) == counts
    assert Authenticator.objects.count() == 8  # TOTP and recovery codes for each staff member


def test_seed_demo_builds_a_city_with_varied_rules():
    run("seed_demo")

    assert Camera.objects.count() >= 300
    assert Camera.objects.integrated().count() >= 30
    assert set(SharingRules.objects.values_list("live_mode", flat=True)) == set(SharingRules.LiveMode.values)
    assert SharingRules.objects.filter(location_precision="approximate").exists()
    assert Waiver.objects.current().count() == 2
    assert User.objects.owners().exclude(waiver_signatures__waiver__is_current=True).exists()


def test_create_staff_makes_a_staff_account_in_a_role():
    output = run("create_staff", "new.officer@police.example.org", "--name", "Pat Lee", "--badge", "5150",
                 "--role", roles.OFFICER)

    user = User.objects.get(email="new.officer@police.example.org")
    assert user.is_staff and not user.is_superuser
    assert user.staff_label == "Pat Lee (#5150)"
    assert list(user.groups.values_list("name", flat=True)) == [roles.OFFICER]
    password = output.split("in person): ")[1].strip()
    assert user.check_password(password)


def test_create_staff_refuses_an_unknown_role():
    with pytest.raises(CommandError):
        run("create_staff", "x@police.example.org", "--name", "X", "--role", "Chief")
    assert not User.objects.filter(email="x@police.example.org").exists()


def test_totp_code_is_refused_outside_development(settings):
    run("seed_demo")
    settings.DEBUG = False

    with pytest.raises(CommandError, match="only with DEBUG on"):
        run("totp_code", "operator@example.org")


def test_totp_code_prints_a_code_the_portal_accepts(settings):
    from allauth.mfa.totp.internal.auth import TOTP

    run("seed_demo")
    settings.DEBUG = True

    code = run("totp_code", "operator@example.org").strip()

    authenticator = Authenticator.objects.get(user__email="operator@example.org", type=Authenticator.Type.TOTP)
    assert TOTP(authenticator).validate_code(code)


class FakeChild:
    """A process started by serve: it stops on the terminal's Ctrl-C (unless told not to) or on a signal."""

    stops_on_ctrl_c = True

    def __init__(self, command):
        self.command, self.running, self.signals = command, True, []

    def poll(self):
        return None if self.running else 0

    def wait(self, timeout=None):
        self.running = self.running and not self.stops_on_ctrl_c
        if self.running:
            raise subprocess.TimeoutExpired(self.command, timeout)
        return 0

    def send_signal(self, signum):
        self.signals.append(signum)
        self.running = False


@pytest.fixture
def children(monkeypatch):
    """The processes serve starts, stand-ins that see a Ctrl-C at serve's first pause."""
    started = []
    monkeypatch.setattr("portal.management.commands.serve.subprocess.Popen",
                        lambda command: started.append(FakeChild(command)) or started[-1])
    monkeypatch.setattr("portal.management.commands.serve.signal.signal", lambda *args: None)

    def ctrl_c(seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr("portal.management.commands.serve.time.sleep", ctrl_c)
    return started


def test_serve_warns_when_emailed_links_point_at_another_address(settings, children):
    settings.SITE_URL = "http://127.0.0.1:8000"

    output = run("serve", port="8100")

    assert "Portal at http://127.0.0.1:8100/" in output
    assert "Links in e-mails point at SITE_URL=http://127.0.0.1:8000, not http://127.0.0.1:8100/" in output


def test_serve_says_nothing_more_when_site_url_is_its_own_address(settings, children):
    settings.SITE_URL = "http://127.0.0.1:8100"

    output = run("serve", port="8100")

    assert "Portal at http://127.0.0.1:8100/" in output
    assert "SITE_URL" not in output


def test_serve_sends_no_second_ctrl_c_to_children_that_stop_on_the_first(children):
    run("serve")

    assert children and all(child.signals == [] and not child.running for child in children)


def test_serve_interrupts_children_still_running_after_ctrl_c(children, monkeypatch):
    monkeypatch.setattr(FakeChild, "stops_on_ctrl_c", False)

    run("serve")

    assert children and all(child.signals == [signal.SIGINT] for child in children)
