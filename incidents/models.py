from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class IncidentQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status=Incident.Status.OPEN)

    def for_rtcc(self):
        """Open incidents, emergencies first, newest first within a priority."""
        return self.open().order_by("priority", "-window_start", "-pk")

    def assigned_to(self, user):
        return self.filter(assigned_officers=user)

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
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], condition=~models.Q(external_id=""),
                                    name="incident_external_id_unique_per_source"),
        ]

    def __str__(self):
        return f"{self.reference} {self.get_incident_type_display()}"

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
