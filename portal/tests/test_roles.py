import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from portal import roles
from portal.tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def test_the_migration_creates_the_four_roles():
    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ROLE_NAMES)


@pytest.mark.parametrize("role", roles.ROLE_NAMES)
def test_each_role_holds_exactly_its_listed_permissions(role):
    group = Group.objects.get(name=role)
    held = {f"{app}.{codename}" for app, codename in
            group.permissions.values_list("content_type__app_label", "codename")}

    assert held == set(roles.ROLE_PERMISSIONS[role])


@pytest.mark.parametrize(("role", "permission", "granted"), [
    (roles.OPERATOR, "requests_app.send_arearequest", True),
    (roles.OPERATOR, "requests_app.approve_arearequest", False),
    (roles.OFFICER, "cameras.view_live", True),
    (roles.OFFICER, "requests_app.send_arearequest", False),
    (roles.SUPERVISOR, "requests_app.approve_arearequest", True),
    (roles.SUPERVISOR, "portal.view_auditevent", True),
    (roles.OVERSIGHT, "portal.view_auditevent", True),
    (roles.OVERSIGHT, "requests_app.view_footage", False),
    (roles.OVERSIGHT, "cameras.view_live", False),
])
def test_staff_get_their_roles_permissions(role, permission, granted):
    user = StaffFactory(roles=[role])

    assert user.has_perm(permission) is granted


def test_sync_roles_repairs_a_group_edited_by_hand():
    group = Group.objects.get(name=roles.OFFICER)
    group.permissions.add(Permission.objects.get(codename="send_arearequest"))
    group.permissions.remove(Permission.objects.get(codename="view_live"))

    call_command("sync_roles", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert set(group.permissions.values_list("codename", flat=True)) == {
        name.split(".")[1] for name in roles.ROLE_PERMISSIONS[roles.OFFICER]
    }


def test_every_listed_permission_has_a_definition_and_a_description():
    assert set(roles.DESCRIPTIONS) == set(roles.PERMISSIONS)
    for names in roles.ROLE_PERMISSIONS.values():
        assert set(names) <= set(roles.PERMISSIONS)
    roles.sync_roles(apps)  # idempotent
    assert Group.objects.filter(name__in=roles.ROLE_NAMES).count() == 4
