import hashlib
import json
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UserQuerySet(models.QuerySet):
    def owners(self):
        """Residents and businesses: the people who register cameras."""
        return self.filter(is_staff=False, account_type__in=[User.AccountType.RESIDENT, User.AccountType.BUSINESS])

    def staff(self):
        return self.filter(is_staff=True)

    def in_role(self, role_name):
        return self.filter(is_staff=True, groups__name=role_name)


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.update(is_staff=True, is_superuser=True, account_type=User.AccountType.STAFF)
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """Anyone who signs in: camera owners (residents, businesses) and police staff."""

    class AccountType(models.TextChoices):
        RESIDENT = "resident", _("Resident")
        BUSINESS = "business", _("Business")
        STAFF = "staff", _("Police staff")

    class LiveViewNotice(models.TextChoices):
        EACH = "each", _("An e-mail on every live view")
        DIGEST = "digest", _("One e-mail a day, listing the previous day's live views")
        NONE = "none", _("No e-mail")

    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    account_type = models.CharField(
        _("account type"), max_length=16, choices=AccountType.choices, default=AccountType.RESIDENT
    )
    business_name = models.CharField(_("business name"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    badge_number = models.CharField(
        _("badge number"), max_length=32, blank=True, help_text=_("Shown to owners in their access log.")
    )
    language = models.CharField(_("language"), max_length=8, blank=True)
    # How the owner hears of live views of the cameras whose rules ask for notices
    # (SharingRules.notify_on_live_view says which cameras; this says how).
    live_view_notice = models.CharField(
        _("live-view notices"), max_length=8, choices=LiveViewNotice.choices, default=LiveViewNotice.EACH
    )
    is_staff = models.BooleanField(
        _("police staff"), default=False, help_text=_("Staff sign in to the admin and the real-time pages.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Staff working hours in the city's time zone; a shift that starts after it ends runs past midnight.
    shift_start = models.TimeField(
        _("shift starts"), null=True, blank=True,
        help_text=_("Optional. Oversight flags access outside these hours (city time). Set both or neither."),
    )
    shift_end = models.TimeField(
        _("shift ends"), null=True, blank=True,
        help_text=_("A shift ending before it starts runs past midnight (22:00 to 06:00)."),
    )
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [("view_statistics", "Can view aggregate program statistics")]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        """The name others see: business name, full name, or the e-mail's local part."""
        if self.account_type == self.AccountType.BUSINESS and self.business_name:
            return self.business_name
        return self.full_name or self.email.split("@")[0]

    @property
    def staff_label(self) -> str:
        """How staff are named to owners: name and badge, never the e-mail address."""
        name = self.full_name or _("Staff member")
        return f"{name} (#{self.badge_number})" if self.badge_number else str(name)

    @property
    def is_owner(self):
        return not self.is_staff and self.account_type in (self.AccountType.RESIDENT, self.AccountType.BUSINESS)

    def get_full_name(self):
        return self.full_name

    def get_short_name(self):
        return self.display_name


class NoticeDigestQuerySet(models.QuerySet):
    def claimable(self, now):
        """Digests not sent yet whose claim is free: never taken, or its lease ran out."""
        return self.filter(sent_at__isnull=True).filter(
            models.Q(claimed_until__isnull=True) | models.Q(claimed_until__lte=now))


class NoticeDigest(models.Model):
    """The daily e-mail listing one owner's live views of one local day: at most one per owner and day.

    A worker claims the row with a conditional UPDATE (a lease in `claimed_until`) before it sends
    and sets `sent_at` after; a worker that dies in between leaves the claim to run out, and the
    next run sends it (portal/notices.py).
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_digests")
    day = models.DateField(help_text="The local day (TIME_ZONE) whose live views the e-mail lists.")
    live_views = models.PositiveIntegerField(default=0)
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = NoticeDigestQuerySet.as_manager()

    class Meta:
        verbose_name = _("notice digest")
        verbose_name_plural = _("notice digests")
        ordering = ["-day", "owner"]
        constraints = [models.UniqueConstraint(fields=["owner", "day"], name="notice_digest_once_per_day")]

    def __str__(self):
        return f"Live-view digest of {self.day} for user {self.owner_id}"


class OutboxEmailQuerySet(models.QuerySet):
    def newest_first(self):
        return self.order_by("-sent_at", "-id")


class OutboxEmail(models.Model):
    """A message the development e-mail backend kept instead of sending (DEBUG outbox)."""

    sent_at = models.DateTimeField(default=timezone.now, db_index=True)
    from_email = models.CharField(max_length=320)
    to = models.TextField(help_text="Comma-separated recipients.")
    subject = models.CharField(max_length=998)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)

    objects = OutboxEmailQuerySet.as_manager()

    class Meta:
        verbose_name = _("outbox e-mail")
        verbose_name_plural = _("outbox e-mails")

    def __str__(self):
        return f"{self.subject} → {self.to}"


class Audience(models.TextChoices):
    RESIDENT = "resident", _("Residents")
    BUSINESS = "business", _("Businesses")


class WaiverQuerySet(models.QuerySet):
    def current(self):
        return self.filter(is_current=True)

    def current_for(self, user):
        """The waiver the user must have signed, or None (staff sign none)."""
        if user.account_type not in Audience.values:
            return None
        return self.current().filter(audience=user.account_type).first()


class Waiver(models.Model):
    """One version of the program agreement for one audience. Published versions never change."""

    audience = models.CharField(_("for"), max_length=16, choices=Audience.choices)
    version = models.PositiveIntegerField(_("version"), editable=False)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), help_text=_("Plain text; blank lines separate paragraphs."))
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    is_current = models.BooleanField(default=False, editable=False)

    objects = WaiverQuerySet.as_manager()

    class Meta:
        verbose_name = _("waiver")
        verbose_name_plural = _("waivers")
        ordering = ["audience", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["audience", "version"], name="waiver_unique_version"),
            models.UniqueConstraint(
                fields=["audience"], condition=models.Q(is_current=True), name="waiver_one_current_per_audience"
            ),
        ]

    def __str__(self):
        return f"{self.get_audience_display()} v{self.version}: {self.title}"

    @property
    def is_published(self):
        return self.published_at is not None

    @property
    def text_sha256(self):
        return hashlib.sha256(self.signed_text().encode()).hexdigest()

    def signed_text(self):
        """Exactly what a signer agrees to: title, version and body."""
        return f"{self.title}\nVersion {self.version}\n\n{self.body.strip()}\n"


class WaiverSignatureQuerySet(models.QuerySet):
    def current(self):
        """Signatures of the version now in force for the signer's audience."""
        return self.filter(waiver__is_current=True, waiver__audience=models.F("user__account_type"))


class WaiverSignature(models.Model):
    """An owner's signature of one waiver version. Never edited or deleted."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="waiver_signatures")
    waiver = models.ForeignKey(Waiver, on_delete=models.PROTECT, related_name="signatures")
    text_sha256 = models.CharField(max_length=64)
    typed_name = models.CharField(max_length=150)
    signed_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)

    objects = WaiverSignatureQuerySet.as_manager()

    class Meta:
        verbose_name = _("waiver signature")
        verbose_name_plural = _("waiver signatures")
        ordering = ["-signed_at"]
        constraints = [models.UniqueConstraint(fields=["user", "waiver"], name="waiver_signed_once")]

    def __str__(self):
        return f"{self.typed_name} signed {self.waiver}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Waiver signatures are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Waiver signatures are never deleted.")


# What staff do with cameras and footage: the actions the shift-hours flag looks at.
STAFF_ACCESS_ACTIONS = [
    "live.access", "live.started", "live.wall", "camera.search", "camera.map", "area_request.created",
    "footage.viewed", "footage.downloaded", "footage.custody_report", "evidence.package_downloaded",
]


class AuditEventQuerySet(models.QuerySet):
    def for_owner(self, user):
        """Police access to the user's cameras (also cameras since deleted), newest first."""
        from portal.audit import ACTION_LABELS

        return (self.filter(camera_owner=user, action__in=list(ACTION_LABELS))
                .select_related("actor").order_by("-id"))

    def access_log_for(self, user):
        """What the owner's access log shows: others' access to the user's cameras and requests, newest first."""
        return self.for_owner(user).exclude(actor=user)

    def in_chain_order(self):
        return self.order_by("id")

    # --- Oversight: the audit browser's filters -------------------------------------------------

    def actions_recorded(self):
        """The distinct actions in the log."""
        return self.order_by("action").values_list("action", flat=True).distinct()

    def by_actor(self, actor_id):
        return self.filter(actor_id=actor_id)

    def for_incident(self, reference):
        return self.filter(incident_reference__iexact=reference.strip())

    def for_cameras(self, camera_ids):
        """Events whose camera is one of `camera_ids` (ids, so that deleted cameras still match)."""
        return self.filter(camera_id__in=list(camera_ids))

    def for_camera_owners(self, owner_ids):
        return self.filter(camera_owner_id__in=list(owner_ids))

    def with_action(self, action):
        return self.filter(action=action)

    def with_outcome(self, outcome):
        return self.filter(outcome=outcome)

    def created_between(self, start=None, end=None):
        """Events at or after `start` and before `end` (aware datetimes; either may be None)."""
        events = self
        if start is not None:
            events = events.filter(created_at__gte=start)
        if end is not None:
            events = events.filter(created_at__lt=end)
        return events

    # --- Oversight: flags worth a look (docs/oversight.md states each rule) ---------------------

    def live_views_without_open_incident(self):
        """Live viewing started with no incident, or for one that was not open at the time."""
        from incidents.models import Incident

        open_then = Incident.objects.filter(reference=models.OuterRef("incident_reference"),
                                            created_at__lte=models.OuterRef("created_at")).filter(
            models.Q(closed_at__isnull=True) | models.Q(closed_at__gt=models.OuterRef("created_at"))
            | models.Q(status=Incident.Status.OPEN))
        return self.filter(action="live.started").exclude(models.Exists(open_then))

    def area_requests_over_limits(self):
        """Area requests whose radius or time window went beyond the city's limits."""
        return (self.filter(action="area_request.created", details__has_key="over_limits")
                .exclude(details__over_limits=[]))

    def footage_downloads_by_unassigned_staff(self):
        """Footage downloads (single files or evidence packages) by someone who neither opened the incident
        nor is assigned to it."""
        from incidents.models import Incident

        theirs = Incident.objects.filter(reference=models.OuterRef("incident_reference")).filter(
            models.Q(created_by_id=models.OuterRef("actor_id"))
            | models.Q(assigned_officers=models.OuterRef("actor_id")))
        return (self.filter(action__in=["footage.downloaded", "evidence.package_downloaded"])
                .exclude(models.Exists(theirs)))

    def outside_shift_hours(self, tzinfo=None):
        """Access by staff with shift hours set, at a time of day (city time) outside their shift."""
        from zoneinfo import ZoneInfo

        from django.db.models.functions import TruncTime

        tzinfo = tzinfo or ZoneInfo(settings.TIME_ZONE)
        start, end = models.F("actor__shift_start"), models.F("actor__shift_end")
        day_shift = models.Q(actor__shift_start__lt=end) & (models.Q(local_time__lt=start)
                                                            | models.Q(local_time__gte=end))
        overnight = models.Q(actor__shift_start__gt=end, local_time__lt=start, local_time__gte=end)
        return (self.filter(action__in=STAFF_ACCESS_ACTIONS, actor__is_staff=True,
                            actor__shift_start__isnull=False, actor__shift_end__isnull=False)
                .annotate(local_time=TruncTime("created_at", tzinfo=tzinfo))
                .filter(day_shift | overnight))

    def refusal_bursts(self, threshold, hours=24):
        """Refusals of one person that are more than `threshold` of theirs within `hours`.

        Each returned event carries `refusals_in_window`: that person's refusals in the `hours`
        up to and including it. The first `threshold` refusals of a burst are not returned.
        """
        window = AuditEvent.objects.filter(
            outcome=AuditEvent.Outcome.DENIED, actor_id=models.OuterRef("actor_id"),
            created_at__gt=models.OuterRef("created_at") - timedelta(hours=hours),
            id__lte=models.OuterRef("id"),  # the chain's order; several events can share a timestamp
        ).order_by().values("actor_id").annotate(total=models.Count("id")).values("total")
        return (self.filter(outcome=AuditEvent.Outcome.DENIED, actor__isnull=False)
                .annotate(refusals_in_window=models.Subquery(window, output_field=models.IntegerField()))
                .filter(refusals_in_window__gt=threshold))


class AuditEvent(models.Model):
    """Append-only, hash-chained record of every access decision and sensitive change.

    Each row stores the previous row's hash and the hash of its own content, so editing or
    deleting any row is detected by `manage.py verify_audit`. Cameras and users are referenced
    without database constraints so that deleting them never rewrites history.
    """

    class Outcome(models.TextChoices):
        ALLOWED = "allowed", _("Allowed")
        DENIED = "denied", _("Denied")
        DONE = "done", _("Done")

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False,
        related_name="+",
    )
    actor_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.DONE)
    target = models.CharField(max_length=200, blank=True)
    camera = models.ForeignKey(
        "cameras.Camera", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    camera_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False,
        related_name="+",
    )
    incident_reference = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-id"]

    def __str__(self):
        return f"#{self.pk} {self.action} {self.outcome} by {self.actor_label or 'system'}"

    def content(self):
        """The fields the hash covers, in a canonical form."""
        return {
            "created_at": self.created_at.isoformat(),
            "actor": self.actor_id,
            "actor_label": self.actor_label,
            "action": self.action,
            "outcome": self.outcome,
            "target": self.target,
            "camera": self.camera_id,
            "camera_owner": self.camera_owner_id,
            "incident_reference": self.incident_reference,
            "ip_address": self.ip_address,
            "details": self.details,
        }

    @property
    def action_label(self):
        from portal.audit import ACTION_LABELS

        return ACTION_LABELS.get(self.action, self.action)

    @property
    def camera_ids(self):
        """The cameras the event concerns: its camera, or the several a footage request covered."""
        return self.details.get("camera_ids") or ([self.camera_id] if self.camera_id else [])

    @property
    def reason(self):
        """The policy's reason for a decision, in the reader's language."""
        from cameras.policy import REASONS, explain

        code = self.details.get("code")
        return explain(code, self.details.get("figures")) if code in REASONS else self.details.get("reason", "")

    def compute_hash(self):
        canonical = json.dumps(self.content(), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(f"{self.previous_hash}|{canonical}".encode()).hexdigest()
