import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AreaRequest(models.Model):
    """Staff asking every owner inside a circle for footage of one time window."""

    class Status(models.TextChoices):
        AWAITING_APPROVAL = "awaiting_approval", _("Awaiting a supervisor's approval")
        SENT = "sent", _("Sent")
        REJECTED = "rejected", _("Rejected by a supervisor")

    incident = models.ForeignKey("incidents.Incident", on_delete=models.PROTECT, related_name="area_requests")
    latitude = models.FloatField()
    longitude = models.FloatField()
    radius_m = models.PositiveIntegerField()
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    message = models.TextField(blank=True)
    case_number = models.CharField(max_length=64, blank=True)
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=24, choices=Status.choices)
    over_limits = models.JSONField(default=list, blank=True, help_text="Why a supervisor must approve it.")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("area request")
        verbose_name_plural = _("area requests")
        ordering = ["-created_at"]
        permissions = [("send_arearequest", "Can send area footage requests"),
                       ("approve_arearequest", "Can approve requests above the city's limits")]

    def __str__(self):
        return f"Area request #{self.pk} for {self.incident}"


class FootageRequestQuerySet(models.QuerySet):
    def email_due(self, now):
        """E-mails a worker may claim now: queued, or failed or being sent and past their back-off or lease."""
        from django.db.models import Q

        waited = Q(email_next_attempt_at__isnull=True) | Q(email_next_attempt_at__lte=now)
        return self.filter(Q(email_state=FootageRequest.EmailState.QUEUED)
                           | Q(waited, email_state__in=[FootageRequest.EmailState.FAILED,
                                                        FootageRequest.EmailState.SENDING]),
                           status=FootageRequest.Status.PENDING)

    def email_overdue(self, now, *, fan_out_grace):
        """Due e-mails that no fan-out task is expected to send any more: failed or left "sending" past
        their back-off or lease, and queued ones older than `fan_out_grace` (their task never ran)."""
        return self.email_due(now).exclude(email_state=FootageRequest.EmailState.QUEUED,
                                           created_at__gt=now - fan_out_grace)

    def open_for_owner(self, user):
        """The owner's requests still waiting for an answer or for files, newest first."""
        from django.utils import timezone

        return (self.filter(owner=user, expires_at__gt=timezone.now(),
                            status__in=[FootageRequest.Status.PENDING, FootageRequest.Status.OPENED,
                                        FootageRequest.Status.APPROVED])
                .select_related("area_request__incident").order_by("-created_at"))


class FootageRequest(models.Model):
    """One owner's part of an area request, answered through an e-mailed link."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the owner")
        OPENED = "opened", _("Opened by the owner")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")
        EXPIRED = "expired", _("Expired")

    class EmailState(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed, will retry")
        GAVE_UP = "gave_up", _("Failed")

    area_request = models.ForeignKey(AreaRequest, on_delete=models.CASCADE, related_name="footage_requests")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="footage_requests")
    cameras = models.ManyToManyField("cameras.Camera", blank=True, related_name="footage_requests")
    camera_names = models.JSONField(default=list, help_text="The cameras asked about, as they were named then.")
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    email_state = models.CharField(max_length=16, choices=EmailState.choices, default=EmailState.QUEUED)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_last_error = models.CharField(max_length=500, blank=True)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    email_next_attempt_at = models.DateTimeField(null=True, blank=True)
    email_message_id = models.CharField(max_length=255, blank=True)
    email_claim = models.UUIDField(null=True, blank=True, editable=False,
                                   help_text="The batch a worker claimed this e-mail in, while it sends.")
    opened_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(blank=True)
    expires_at = models.DateTimeField()
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = FootageRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("footage request")
        verbose_name_plural = _("footage requests")
        ordering = ["area_request", "pk"]
        constraints = [models.UniqueConstraint(fields=["area_request", "owner"], name="one_request_per_owner")]

    def __str__(self):
        return f"Footage request #{self.pk} to {self.owner}"

    def audit_subject(self):
        """audit_record() arguments for an event about this request or its footage: the owner's log
        shows it, naming the cameras asked about (an upload answers the request, not one camera)."""
        return {"camera_owner": self.owner, "cameras": self.cameras.all()}


class Upload(models.Model):
    """A resumable (tus) upload in progress or finished, stored in private storage."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    scope = models.CharField(max_length=100, db_index=True, help_text="What the upload belongs to, e.g. a request.")
    filename = models.CharField(max_length=255, blank=True)
    length = models.BigIntegerField()
    offset = models.BigIntegerField(default=0)
    metadata = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    storage_name = models.CharField(max_length=255, blank=True,
                                    help_text="Where the finished file is kept, in the footage storage.")
    # The fingerprint of what arrived, computed while it streamed in (requests_app/hashing.py).
    sha256_state = models.BinaryField(null=True, blank=True, editable=False)
    sha256 = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the bytes received.")
    # Object storage (requests_app/tus_stores.py): the multipart upload, its parts as
    # [number, ETag, size, SHA-256 in base64], the bytes staged for the next part, and the writer's lease.
    storage_upload_id = models.CharField(max_length=255, blank=True, db_index=True)
    parts = models.JSONField(default=list, blank=True)
    staged_bytes = models.BigIntegerField(default=0)
    lease_token = models.CharField(max_length=32, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("upload")
        verbose_name_plural = _("uploads")

    def __str__(self):
        return f"Upload {self.id} ({self.offset}/{self.length} bytes)"

    @property
    def path(self):
        """Where the disk store (DiskUploadStore) keeps the bytes while they arrive."""
        return settings.FOOTAGE_ROOT / "uploads" / f"{self.id}.part"

    @property
    def is_complete(self):
        return self.offset == self.length


class FootageSubmissionQuerySet(models.QuerySet):
    def accepted(self):
        return self.filter(status=FootageSubmission.Status.ACCEPTED)

    def stalled(self, before):
        """Files still being checked that arrived before `before`: their check task was lost or gave up."""
        return self.filter(status=FootageSubmission.Status.PROCESSING, created_at__lt=before)

    def for_incidents(self, incidents):
        return self.filter(footage_request__area_request__incident__in=incidents)

    def given_by(self, owner):
        """Every file the owner gave (also those deleted since), newest first, with what their retention
        state reads (requests_app/retention.py)."""
        return (self.filter(footage_request__owner=owner)
                .select_related("footage_request__area_request__incident", "tombstone").order_by("-created_at"))

    def retention_candidates(self):
        """Accepted files that a retention rule could make due now (a superset: retention_state() decides):
        not on legal hold, and with no case number or a closed incident."""
        from django.db.models import Q

        no_case = Q(footage_request__area_request__incident__case_number="",
                    footage_request__area_request__case_number="")
        closed = Q(footage_request__area_request__incident__status="closed")
        return self.filter(no_case | closed, status=FootageSubmission.Status.ACCEPTED, hold_reason="",
                           tombstone__isnull=True)


class FootageSubmission(models.Model):
    """A file an owner uploaded for a footage request: evidence once accepted."""

    class Status(models.TextChoices):
        PROCESSING = "processing", _("Being checked")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")
        PURGED = "purged", _("Deleted under the retention rules")

    footage_request = models.ForeignKey(FootageRequest, on_delete=models.PROTECT, related_name="submissions")
    upload = models.OneToOneField(Upload, null=True, blank=True, on_delete=models.SET_NULL, related_name="submission")
    original_name = models.CharField(max_length=255)
    stored_name = models.CharField(max_length=255, blank=True, help_text="Name inside evidence/.")
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64, blank=True)
    media = models.JSONField(default=dict, blank=True, help_text="container, codec, duration_s, width, height")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROCESSING)
    rejection_reason = models.CharField(max_length=500, blank=True)
    uploader = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    # A legal hold (requests_app/retention.py): while hold_reason is set the file is never deleted. Each
    # hold and lift is in the audit log with its reason; the owner sees only "kept for an open case".
    hold_reason = models.TextField(blank=True)
    held_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    held_at = models.DateTimeField(null=True, blank=True)
    hold_lifted_at = models.DateTimeField(null=True, blank=True)

    objects = FootageSubmissionQuerySet.as_manager()

    class Meta:
        verbose_name = _("footage submission")
        verbose_name_plural = _("footage submissions")
        ordering = ["-created_at"]
        permissions = [("view_footage", "Can review submitted footage"),
                       ("hold_footage", "Can place and lift legal holds on footage")]

    def __str__(self):
        return f"{self.original_name} ({self.get_status_display()})"

    @property
    def is_held(self):
        return bool(self.hold_reason)


class DeletionTombstone(models.Model):
    """What a retention deletion removed, written (in its own transaction) before the file is deleted.

    A run killed midway leaves the tombstone "pending"; the next run deletes the file again (deleting
    a missing file is fine) and marks it done, once. The receipt e-mail is claimed with a lease and
    marked sent, so a rerun never sends a second one.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Being deleted")
        DONE = "done", _("Deleted")

    class Rule(models.TextChoices):
        NO_CASE = "no_case", _("No case was opened for the incident")
        EVIDENCE_RETENTION = "evidence_retention", _("The case was closed and its retention period ended")

    submission = models.OneToOneField(FootageSubmission, on_delete=models.PROTECT, related_name="tombstone")
    stored_name = models.CharField(max_length=255, help_text="The name deleted from the footage storage.")
    original_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.BigIntegerField()
    rule = models.CharField(max_length=32, choices=Rule.choices)
    retention_days = models.PositiveIntegerField(help_text="The rule's period when the file was deleted.")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    receipt_claimed_until = models.DateTimeField(null=True, blank=True, editable=False,
                                                 help_text="A worker is sending the receipt until then.")
    receipt_sent_at = models.DateTimeField(null=True, blank=True)
    receipt_to = models.EmailField(blank=True)

    class Meta:
        verbose_name = _("deletion tombstone")
        verbose_name_plural = _("deletion tombstones")
        ordering = ["-created_at"]

    def __str__(self):
        return f"Deletion of {self.original_name} ({self.get_state_display()})"


class EvidencePackage(models.Model):
    """Files of one incident put together for prosecutors and defence, with a manifest fixed at creation.

    The manifest (hashes, media facts, owners, cameras and the audit events up to then) is stored as the
    exact bytes every download carries, so each copy is the same and its SHA-256 can be compared.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    incident = models.ForeignKey("incidents.Incident", on_delete=models.PROTECT, related_name="evidence_packages")
    submissions = models.ManyToManyField(FootageSubmission, related_name="evidence_packages")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    manifest = models.TextField(editable=False, help_text="manifest.json as it is written into the ZIP.")
    manifest_sha256 = models.CharField(max_length=64, editable=False)

    class Meta:
        verbose_name = _("evidence package")
        verbose_name_plural = _("evidence packages")
        ordering = ["-created_at"]

    def __str__(self):
        return f"Evidence package {self.id} of {self.incident}"


class EvidencePackageLinkQuerySet(models.QuerySet):
    def live(self, now):
        return self.filter(revoked_at__isnull=True, expires_at__gt=now)


class EvidencePackageLink(models.Model):
    """A link that lets one person (a prosecutor, a defence lawyer) download one package without signing in.

    Only the SHA-256 of the link's token is stored; the link expires and staff may revoke it.
    """

    package = models.ForeignKey(EvidencePackage, on_delete=models.CASCADE, related_name="links")
    token_hash = models.CharField(max_length=64, unique=True)
    recipient = models.CharField(max_length=200, help_text="Who the link is for, as staff wrote it.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    download_count = models.PositiveIntegerField(default=0)
    last_downloaded_at = models.DateTimeField(null=True, blank=True)

    objects = EvidencePackageLinkQuerySet.as_manager()

    class Meta:
        verbose_name = _("evidence package link")
        verbose_name_plural = _("evidence package links")
        ordering = ["-created_at"]

    def __str__(self):
        return f"Link to {self.package} for {self.recipient}"

    def is_live(self, now):
        return self.revoked_at is None and self.expires_at > now
