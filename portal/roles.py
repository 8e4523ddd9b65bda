"""Police staff roles and the permissions each one holds.

The table is the single source of truth: a data migration creates the groups from it, every
`migrate` re-applies it (post_migrate), and `manage.py sync_roles` does the same on demand.
Permissions are named `app_label.codename`; each entry also names the model it belongs to, so
it can be created before that model's own migration exists (Django reuses the row later).
docs/roles.md explains every permission in plain words.
"""

from django.utils.translation import gettext_lazy as _

OPERATOR = "RTCC operator"
OFFICER = "Officer"
SUPERVISOR = "Supervisor"
OVERSIGHT = "Oversight"
ROLE_NAMES = [OPERATOR, OFFICER, SUPERVISOR, OVERSIGHT]

# (app_label, model, codename, name)
PERMISSIONS = {
    "cameras.view_camera": ("cameras", "camera", "view_camera", "Can view camera"),
    "cameras.view_live": ("cameras", "camera", "view_live", "Can watch live streams of integrated cameras"),
    "cameras.view_livesession": ("cameras", "livesession", "view_livesession", "Can view live session"),
    "incidents.view_incident": ("incidents", "incident", "view_incident", "Can view incident"),
    "incidents.add_incident": ("incidents", "incident", "add_incident", "Can add incident"),
    "incidents.change_incident": ("incidents", "incident", "change_incident", "Can change incident"),
    "incidents.view_integrationkey": ("incidents", "integrationkey", "view_integrationkey",
                                      "Can view integration key"),
    "incidents.add_integrationkey": ("incidents", "integrationkey", "add_integrationkey", "Can add integration key"),
    "incidents.change_integrationkey": ("incidents", "integrationkey", "change_integrationkey",
                                        "Can change integration key"),
    "requests_app.view_arearequest": ("requests_app", "arearequest", "view_arearequest", "Can view area request"),
    "requests_app.send_arearequest": (
        "requests_app", "arearequest", "send_arearequest", "Can send area footage requests",
    ),
    "requests_app.approve_arearequest": (
        "requests_app", "arearequest", "approve_arearequest", "Can approve requests above the city's limits",
    ),
    "requests_app.view_footage": ("requests_app", "footagesubmission", "view_footage", "Can review submitted footage"),
    "requests_app.hold_footage": ("requests_app", "footagesubmission", "hold_footage",
                                  "Can place and lift legal holds on footage"),
    "portal.view_auditevent": ("portal", "auditevent", "view_auditevent", "Can view audit event"),
    "portal.view_statistics": ("portal", "user", "view_statistics", "Can view aggregate program statistics"),
    "portal.view_user": ("portal", "user", "view_user", "Can view user"),
    "portal.add_user": ("portal", "user", "add_user", "Can add user"),
    "portal.change_user": ("portal", "user", "change_user", "Can change user"),
    "portal.view_waiver": ("portal", "waiver", "view_waiver", "Can view waiver"),
    "portal.add_waiver": ("portal", "waiver", "add_waiver", "Can add waiver"),
    "portal.change_waiver": ("portal", "waiver", "change_waiver", "Can change waiver"),
    "portal.view_waiversignature": ("portal", "waiversignature", "view_waiversignature",
                                    "Can view waiver signature"),
}

# What each permission lets a person do, in the words the staff home page uses.
DESCRIPTIONS = {
    "cameras.view_camera": _("Find registered cameras around a place"),
    "cameras.view_live": _("Watch live streams of integrated cameras, under each owner's rules"),
    "cameras.view_livesession": _("See who watched which camera live, when, for which incident and why"),
    "incidents.view_incident": _("See incidents (officers: those assigned to them)"),
    "incidents.add_incident": _("Open incidents"),
    "incidents.change_incident": _("Update incidents"),
    "incidents.view_integrationkey": _("See the API keys of dispatch, alarm and vehicle-locator systems"),
    "incidents.add_integrationkey": _("Create API keys for dispatch, alarm and vehicle-locator systems"),
    "incidents.change_integrationkey": _("Revoke API keys of dispatch, alarm and vehicle-locator systems"),
    "requests_app.view_arearequest": _("See area footage requests and their answers"),
    "requests_app.send_arearequest": _("Send area footage requests to camera owners"),
    "requests_app.approve_arearequest": _("Approve requests above the city's limits"),
    "requests_app.view_footage": _("Review and download submitted footage"),
    "requests_app.hold_footage": _("Place and lift legal holds, which keep footage from deletion"),
    "portal.view_auditevent": _("Read the audit log"),
    "portal.view_statistics": _("See aggregate program statistics"),
    "portal.view_user": _("See accounts"),
    "portal.add_user": _("Create staff accounts"),
    "portal.change_user": _("Change accounts and staff roles"),
    "portal.view_waiver": _("See program agreements (waivers)"),
    "portal.add_waiver": _("Write new program agreement versions"),
    "portal.change_waiver": _("Publish program agreement versions"),
    "portal.view_waiversignature": _("See who signed which agreement version"),
}

_OPERATOR_PERMISSIONS = [
    "cameras.view_camera",
    "cameras.view_live",
    "incidents.view_incident",
    "incidents.add_incident",
    "incidents.change_incident",
    "requests_app.view_arearequest",
    "requests_app.send_arearequest",
    "requests_app.view_footage",
]

ROLE_PERMISSIONS = {
    OPERATOR: _OPERATOR_PERMISSIONS,
    OFFICER: ["cameras.view_camera", "cameras.view_live", "incidents.view_incident", "requests_app.view_footage"],
    SUPERVISOR: _OPERATOR_PERMISSIONS
    + [
        "requests_app.approve_arearequest",
        "requests_app.hold_footage",
        "cameras.view_livesession",
        "incidents.view_integrationkey",
        "incidents.add_integrationkey",
        "incidents.change_integrationkey",
        "portal.view_auditevent",
        "portal.view_statistics",
        "portal.view_user",
        "portal.add_user",
        "portal.change_user",
        "portal.view_waiver",
        "portal.add_waiver",
        "portal.change_waiver",
        "portal.view_waiversignature",
    ],
    OVERSIGHT: ["cameras.view_livesession", "portal.view_auditevent", "portal.view_statistics"],
}


def sync_roles(apps):
    """Create the role groups and give each exactly the permissions in ROLE_PERMISSIONS.

    Takes an app registry so that migrations can pass their historical one.
    """
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = []
        for name in names:
            app_label, model, codename, label = PERMISSIONS[name]
            content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
            permission, _ = Permission.objects.get_or_create(
                content_type=content_type, codename=codename, defaults={"name": label}
            )
            permissions.append(permission)
        group.permissions.set(permissions)


def sync_roles_after_migrate(sender, apps=None, **kwargs):
    """post_migrate receiver: every migrate (and every test-database flush) restores the roles."""
    from django.apps import apps as installed_apps

    sync_roles(apps or installed_apps)
