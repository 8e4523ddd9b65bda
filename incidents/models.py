from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.timezone import now as timezone_now
from django.utils.translation import gettext_lazy as _


class IncidentQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status=Incident.Status.OPEN)

    def for_rtcc(self):
        """Open incidents, emergencies first, newest first within a priority."""
        return self.open().order_by("priority", "-window_start", "-pk")

    def assigned_to(self, user):
        return self.filter(assigned_officers=user)

    def for_list(self):
        """The incident list's rows: newest first, each with `area_request_count` (counted in the same query,
        instead of loading every area request to count them)."""
        return self.annotate(area_request_count=models.Count("area_requests", distinct=True)).order_by("-created_at")

    def visible_to(self, user):
        """Operators and supervisors see every incident; officers those assigned to them."""
        if not user.is_staff or not user.has_perm("incidents.view_incident"):
            return self.none()
        if user.has_perm("incidents.change_incident"):
            return self
        return self.filter(assigned_officers=user)


class Incident(models.Model):
    class Type(models.TextChoices):
        BURGLARY = "burglary", _("Burglary")
        ROBBERY = "robbery", _("Robbery")
        SHOOTING = "shooting", _("Shooting")
        ASSAULT = "assault", _("Assault")
        HIT_AND_RUN = "hit_and_run", _("Hit and run")
        MISSING_PERSON = "missing_person", _("Missing person")
        THEFT = "theft", _("Theft")
        VEHICLE_THEFT = "vehicle_theft", _("Vehicle theft")
        VANDALISM = "vandalism", _("Vandalism")
        ALARM = "alarm", _("Alarm")
        OTHER = "other", _("Other")

    class Priority(models.IntegerChoices):
        EMERGENCY = 1, _("Emergency")
        URGENT = 2, _("Urgent")
        ROUTINE = 3, _("Routine")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    class Source(models.TextChoices):
        STAFF = "staff", _("Staff")
        CAD = "cad", _("CAD / 911")
        ALARM = "alarm", _("Alarm system")

    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    incident_type = models.CharField(_("type"), max_length=32, choices=Type.choices)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, default=Priority.URGENT)
    case_number = models.CharField(_("case number"), max_length=64, blank=True)
    latitude = models.FloatField(_("latitude"), validators=[MinValueValidator(-90), MaxValueValidator(90)])
    longitude = models.FloatField(_("longitude"), validators=[MinValueValidator(-180), MaxValueValidator(180)])
    address = models.CharField(_("address"), max_length=255, blank=True)
    description = models.TextField(_("description"), blank=True)
    window_start = models.DateTimeField(_("from"))
    window_end = models.DateTimeField(_("until"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.STAFF)
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    assigned_officers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="assigned_incidents",
                                               verbose_name=_("assigned officers"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = IncidentQuerySet.as_manager()

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], condition=~models.Q(external_id=""),
                                    name="incident_external_id_unique_per_source"),
        ]

    def __str__(self):
        return f"{self.reference} {self.get_incident_type_display()}"

    @property
    def type_label(self):
        """The type's name, as get_incident_type_display() reads it. That method translates every choice's label
        on each call (Django hashes the whole choice list): a list of incidents paid 11 translations a row."""
        try:
            return self.Type(self.incident_type).label
        except ValueError:  # a type no longer offered: shown as stored, as Django does
            return self.incident_type

    @property
    def status_label(self):
        """The status's name, as get_status_display() reads it, without translating every choice."""
        try:
            return self.Status(self.status).label
        except ValueError:
            return self.status

    @property
    def kind(self):
        """What the live-access policy reads: "alarm", "911" or the incident type."""
        if self.incident_type == self.Type.ALARM or self.source == self.Source.ALARM:
            return "alarm"
        if self.source == self.Source.CAD:
            return "911"
        return self.incident_type

    @property
    def occurred_at(self):
        return self.window_start


class IntegrationKeyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class IntegrationKey(models.Model):
    """An API key for a dispatch (CAD) system, an alarm company or a vehicle locator (AVL).

    Only the key's SHA-256 is stored; the key itself is shown once, when it is created.
    """

    class Kind(models.TextChoices):
        CAD = "cad", _("CAD / 911 dispatch")
        ALARM = "alarm", _("Alarm company")
        AVL = "avl", _("Vehicle locator (unit positions only)")

    name = models.CharField(_("name"), max_length=100, help_text=_("Who uses the key, e.g. \"County CAD\"."))
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    prefix = models.CharField(_("prefix"), max_length=16, editable=False,
                              help_text=_("The key's first characters, to recognise it in logs."))
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(_("last used from"), null=True, blank=True)

    objects = IntegrationKeyQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("integration key")
        verbose_name_plural = _("integration keys")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self):
        return self.revoked_at is not None

    @property
    def incident_source(self):
        """The Incident.source of events posted with this key (None for AVL keys)."""
        return {self.Kind.CAD: Incident.Source.CAD, self.Kind.ALARM: Incident.Source.ALARM}.get(self.kind)


class UnitPositionQuerySet(models.QuerySet):
    def active(self, now=None):
        """Units still sharing and seen in the last UNIT_STALE_MINUTES."""
        since = (now or timezone_now()) - timedelta(minutes=settings.UNIT_STALE_MINUTES)
        return self.filter(updated_at__gte=since, stopped_at__isnull=True)


class UnitPosition(models.Model):
    """The latest known position of one unit (a patrol car's locator or an officer's phone); no history."""

    class Source(models.TextChoices):
        AVL = "avl", _("Vehicle locator")
        PHONE = "phone", _("Officer's phone")

    call_sign = models.CharField(_("call sign"), max_length=32, unique=True)
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="unit_positions", verbose_name=_("officer"))
    latitude = models.FloatField(_("latitude"), validators=[MinValueValidator(-90), MaxValueValidator(90)])
    longitude = models.FloatField(_("longitude"), validators=[MinValueValidator(-180), MaxValueValidator(180)])
    accuracy_m = models.FloatField(_("accuracy (m)"), null=True, blank=True)
    heading = models.FloatField(_("heading"), null=True, blank=True)
    speed = models.FloatField(_("speed (m/s)"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    recorded_at = models.DateTimeField(_("recorded"))
    updated_at = models.DateTimeField(_("updated"), default=timezone_now)
    # Set when an officer stops sharing from their phone; the next position clears it.
    stopped_at = models.DateTimeField(_("stopped sharing"), null=True, blank=True)

    objects = UnitPositionQuerySet.as_manager()

    class Meta:
        ordering = ["call_sign"]
        verbose_name = _("unit position")
        verbose_name_plural = _("unit positions")
        indexes = [models.Index(fields=["updated_at"], name="unitposition_updated_at")]

    def __str__(self):
        return self.call_sign
