import functools
import json
import math

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.base import ModelState
from django.db.models.expressions import RawSQL
from django.db.models.signals import post_init, pre_init
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cameras.geo import (
    EARTH_RADIUS_M,
    MAX_LISTED_BANDS,
    bounding_box,
    chord_squared_limit,
    latitude_band,
    unit_vector,
)


@functools.lru_cache(maxsize=1024)
def _parse_choice_list(text):
    value = json.loads(text)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    return None


class ChoiceListField(models.JSONField):
    """A short list of choice values, stored as JSON.

    Few distinct lists exist (subsets of a handful of choices), so decoding is memoised: a search
    loading hundreds of cameras reads each list from a cache instead of parsing it again. Every
    instance still gets a list of its own.
    """

    def from_db_value(self, value, expression, connection):
        if type(value) is str:
            try:
                parsed = _parse_choice_list(value)
            except json.JSONDecodeError:
                parsed = None
            if parsed is not None:
                return list(parsed)
        return super().from_db_value(value, expression, connection)


def _box_condition(table, lat, lng, radius_m):
    """SQL (and its parameters) keeping the cameras inside the circle's bounding box, as the
    index camera_band_lng_lat can serve it: the latitude bands listed one by one when there are
    few (equality on the band lets the index bound the longitude too), then latitude and longitude.
    """
    lat_min, lat_max, lng_ranges = bounding_box(lat, lng, radius_m)
    first_band, last_band = latitude_band(lat_min), latitude_band(lat_max)
    if last_band - first_band < MAX_LISTED_BANDS:
        bands = range(first_band, last_band + 1)
        conditions, params = [f"{table}.lat_band IN ({', '.join(['%s'] * len(bands))})"], [*bands]
    else:
        conditions, params = [f"{table}.lat_band BETWEEN %s AND %s"], [first_band, last_band]
    conditions.append(f"{table}.latitude BETWEEN %s AND %s")
    params += [lat_min, lat_max]
    if lng_ranges is not None:
        conditions.append("(" + " OR ".join([f"{table}.longitude BETWEEN %s AND %s"] * len(lng_ranges)) + ")")
        params += [bound for lng_range in lng_ranges for bound in lng_range]
    return " AND ".join(conditions), params


class CameraQuerySet(models.QuerySet):
    def owned_by(self, user):
        return self.filter(owner=user)

    def integrated(self):
        return self.filter(access_level=Camera.AccessLevel.INTEGRATED)

    def within(self, lat, lng, radius_m):
        """Cameras within radius_m metres of (lat, lng), nearest first, with `distance_m`.

        An indexed latitude/longitude box narrows the rows; the exact great-circle test is then
        done in SQL on each camera's stored unit vector (chord length is monotonic in arc length),
        so no trigonometry runs per row and SQLite and PostgreSQL give identical results.

        The conditions are one raw SQL fragment with query parameters rather than Q objects and
        F() nodes, which halves Django's query-building time (bench/geo.py). The
        fragment names the camera table, so this queryset is for reading cameras, not for use as
        a subquery.
        """
        table = f'"{Camera._meta.db_table}"'
        box_sql, box_params = _box_condition(table, lat, lng, radius_m)
        x, y, z = unit_vector(lat, lng)
        chord_sql = (f"({table}.unit_x - %s) * ({table}.unit_x - %s)"
                     f" + ({table}.unit_y - %s) * ({table}.unit_y - %s)"
                     f" + ({table}.unit_z - %s) * ({table}.unit_z - %s)")
        chord_params = (x, x, y, y, z, z)
        in_circle = RawSQL(  # noqa: S611  (the values are query parameters; the table name is ours)
            f"{box_sql} AND {chord_sql} <= %s",
            (*box_params, *chord_params, chord_squared_limit(radius_m)),
            output_field=models.BooleanField(),
        )
        chord_squared = RawSQL(chord_sql, chord_params, output_field=models.FloatField())  # noqa: S611
        return (
            self.filter(in_circle)
            .defer(*Camera.NOT_LOADED_BY_SEARCHES)
            .annotate(chord_squared_value=chord_squared)
            .order_by("chord_squared_value", "pk")
        )

    def nearest(self, lat, lng, n):
        """The n cameras nearest to (lat, lng), nearest first, with `distance_m`."""
        radius_m = 500.0
        while True:
            found = list(self.within(lat, lng, radius_m)[:n])
            if len(found) >= n or radius_m >= math.pi * EARTH_RADIUS_M:
                return found
            radius_m = min(radius_m * 4, math.pi * EARTH_RADIUS_M)

    def visible_to_staff(self):
        """Cameras staff may see at all: active owners who verified their e-mail address."""
        from allauth.account.models import EmailAddress

        verified = EmailAddress.objects.filter(user=models.OuterRef("owner"), verified=True)
        return self.filter(owner__is_active=True).filter(models.Exists(verified))

    def with_policy_facts(self):
        """Annotate what the live-access policy needs about the owner, so it queries nothing."""
        from allauth.account.models import EmailAddress

        from portal.models import WaiverSignature

        verified = EmailAddress.objects.filter(user=models.OuterRef("owner"), verified=True)
        signed_current = WaiverSignature.objects.current().filter(user=models.OuterRef("owner"))
        return self.select_related("owner", "rules").annotate(
            owner_email_verified=models.Exists(verified),
            owner_waiver_current=models.Exists(signed_current),
        )


# The columns a search reads besides the indexed ones: the WHERE clause's unit vector and every
# column within() loads. A test keeps this in step with the model.
SEARCH_INDEX_INCLUDES = ("unit_x", "unit_y", "unit_z", "id", "owner", "name", "address", "site_kind", "coverage",
                         "direction_degrees", "access_level")


class Camera(models.Model):
    class SiteKind(models.TextChoices):
        HOME = "home", pgettext_lazy("kind of site", "Home")  # not the "Home" of breadcrumbs
        BUSINESS = "business", _("Business")
        SCHOOL = "school", _("School")
        WORSHIP = "worship", _("Place of worship")
        GOVERNMENT = "government", _("Government")
        OTHER = "other", _("Other")

    class AccessLevel(models.TextChoices):
        REGISTERED = "registered", _("Registered: footage only on request")
        INTEGRATED = "integrated", _("Integrated: live access under my rules")

    class Coverage(models.TextChoices):
        STREET = "street", _("Street")
        SIDEWALK = "sidewalk", _("Sidewalk")
        ENTRANCE = "entrance", _("Entrance")
        DRIVEWAY = "driveway", _("Driveway")
        PARKING = "parking", _("Parking")
        YARD = "yard", _("Yard")
        ALLEY = "alley", _("Alley")
        INTERIOR = "interior", _("Inside the building")

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cameras")
    name = models.CharField(_("name"), max_length=100)
    latitude = models.FloatField(_("latitude"), validators=[MinValueValidator(-90), MaxValueValidator(90)])
    longitude = models.FloatField(_("longitude"), validators=[MinValueValidator(-180), MaxValueValidator(180)])
    # The point on the unit sphere: exact great-circle searches with plain arithmetic in SQL.
    unit_x = models.FloatField(editable=False)
    unit_y = models.FloatField(editable=False)
    unit_z = models.FloatField(editable=False)
    lat_band = models.IntegerField(editable=False)  # cameras.geo.latitude_band(latitude), for the index
    address = models.CharField(_("address"), max_length=255)
    site_kind = models.CharField(_("site"), max_length=16, choices=SiteKind.choices, default=SiteKind.HOME)
    coverage = ChoiceListField(_("what it covers"), default=list, blank=True)
    direction_degrees = models.PositiveSmallIntegerField(
        _("direction (degrees from north)"), null=True, blank=True, validators=[MaxValueValidator(359)]
    )
    access_level = models.CharField(
        _("access level"), max_length=16, choices=AccessLevel.choices, default=AccessLevel.REGISTERED
    )
    # No updated_at: every change is in the audit log, and within() builds hundreds of these rows.
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CameraQuerySet.as_manager()
    # What searches leave unloaded (read on access, one query each): the geometry columns, which
    # only the database reads, and the registration time, which only the owner's API and the admin
    # show. A search loading hundreds of cameras then fetches fewer columns and parses no timestamps.
    NOT_LOADED_BY_SEARCHES = ("unit_x", "unit_y", "unit_z", "lat_band", "created_at")

    class Meta:
        verbose_name = _("camera")
        verbose_name_plural = _("cameras")
        ordering = ["name", "pk"]
        indexes = [
            # On PostgreSQL the index also carries every column a search reads (SEARCH_INDEX_INCLUDES),
            # so a search reads the index alone (an index-only scan, bench/geo.py) instead of visiting
            # one table page per camera found. SQLite has no such indexes and builds the plain one.
            models.Index(fields=["lat_band", "longitude", "latitude"], include=SEARCH_INDEX_INCLUDES,
                         name="camera_band_lng_lat"),
        ]
        permissions = [("view_live", "Can watch live streams of integrated cameras")]

    def __str__(self):
        return self.name

    @classmethod
    def from_db(cls, db, field_names, values):
        """A camera loaded from the database, built without Model.__init__ (searches load hundreds).

        The result is the default's: the selected fields in the instance dict, the others left
        deferred. The default path runs whenever something listens to pre_init or post_init.
        """
        if pre_init.receivers or post_init.receivers:
            return super().from_db(db, field_names, values)
        camera = cls.__new__(cls)
        camera.__dict__.update(zip(field_names, values, strict=True))
        camera._state = state = ModelState()
        state.adding, state.db = False, db
        return camera

    def set_location(self, latitude, longitude):
        self.latitude, self.longitude = latitude, longitude
        self.unit_x, self.unit_y, self.unit_z = unit_vector(latitude, longitude)
        self.lat_band = latitude_band(latitude)

    @property
    def distance_m(self):
        """Great-circle distance from the centre of the last within()/nearest() query."""
        chord = math.sqrt(max(getattr(self, "chord_squared_value", 0.0), 0.0))
        return 2 * EARTH_RADIUS_M * math.asin(min(chord / 2, 1.0))

    @property
    def is_integrated(self):
        return self.access_level == self.AccessLevel.INTEGRATED


class SharingRules(models.Model):
    """What the owner allows for one camera."""

    class LiveMode(models.TextChoices):
        NEVER = "never", _("Never")
        SCHEDULE = "schedule", _("On a weekly schedule")
        INCIDENT = "incident", _("Only during an alarm or 911 event nearby")
        ALWAYS = "always", _("Always")

    class Precision(models.TextChoices):
        EXACT = "exact", _("Exact location")
        APPROXIMATE = "approximate", _("Approximate (about 150 m) until I answer a request")

    camera = models.OneToOneField(Camera, on_delete=models.CASCADE, primary_key=True, related_name="rules")
    live_mode = models.CharField(max_length=16, choices=LiveMode.choices, default=LiveMode.NEVER)
    # [{"days": [0, 1, 2, 3, 4], "start": "18:00", "end": "07:00"}], days 0 = Monday; an end at
    # or before the start runs past midnight into the next day.
    schedule = models.JSONField(default=list, blank=True)
    incident_radius_m = models.PositiveIntegerField(
        default=200, validators=[MinValueValidator(10), MaxValueValidator(5000)]
    )
    incident_minutes = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(5), MaxValueValidator(720)]
    )
    accept_requests = models.BooleanField(default=True)
    paused_until = models.DateTimeField(null=True, blank=True)
    notify_on_live_view = models.BooleanField(default=False)
    location_precision = models.CharField(max_length=16, choices=Precision.choices, default=Precision.EXACT)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("sharing rules")
        verbose_name_plural = _("sharing rules")

    def __str__(self):
        return f"Rules for {self.camera}"

    def is_paused(self, at):
        return self.paused_until is not None and self.paused_until > at

    @property
    def paused_indefinitely(self):
        return self.paused_until is not None and self.paused_until.year == 9999

    def live_summary(self):
        """The live rule in plain words: "Live access: weekdays 18:00–07:00"."""
        from cameras.policy import describe_schedule

        if self.live_mode == self.LiveMode.ALWAYS:
            return _("Live access: at any time")
        if self.live_mode == self.LiveMode.SCHEDULE:
            return _("Live access: %(schedule)s") % {"schedule": describe_schedule(self.schedule)}
        if self.live_mode == self.LiveMode.INCIDENT:
            return _("Live access: only during an alarm or 911 event within %(metres)s m, for %(minutes)s minutes") % {
                "metres": self.incident_radius_m, "minutes": self.incident_minutes}
        return _("Live access: never")

    def summary(self):
        """Every rule in plain words, for the owner's dashboard."""
        lines = []
        if self.camera.is_integrated:
            lines.append(self.live_summary())
        lines.append(_("Footage requests: accepted") if self.accept_requests else _("Footage requests: not accepted"))
        if self.location_precision == self.Precision.APPROXIMATE:
            lines.append(_("Location shown to police: approximate (about 150 m)"))
        else:
            lines.append(_("Location shown to police: exact"))
        if self.notify_on_live_view and self.camera.is_integrated:
            lines.append(self._notice_summary())
        return lines

    def _notice_summary(self):
        # The rule says which cameras notify; the owner's account says how (portal/notices.py).
        from portal.models import User

        notice = self.camera.owner.live_view_notice
        if notice == User.LiveViewNotice.DIGEST:
            return _("Live views listed in my daily e-mail")
        if notice == User.LiveViewNotice.NONE:
            return _("Live views: no e-mail (my account's notice choice)")
        return _("E-mail me on each live view")


class StreamSource(models.Model):
    """Where an integrated camera's live picture comes from. URL and credentials are encrypted."""

    class Kind(models.TextChoices):
        MJPEG = "mjpeg", _("MJPEG over HTTP")
        SNAPSHOT = "snapshot", _("JPEG snapshot URL")
        HLS = "hls", _("HLS playlist")
        RTSP = "rtsp", _("RTSP (IP cameras and video recorders)")

    camera = models.OneToOneField(Camera, on_delete=models.CASCADE, primary_key=True, related_name="stream")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    encrypted_url = models.TextField()
    encrypted_username = models.TextField(blank=True)
    encrypted_password = models.TextField(blank=True)
    last_tested_at = models.DateTimeField(null=True, blank=True)
    last_test_ok = models.BooleanField(null=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("stream source")
        verbose_name_plural = _("stream sources")

    def __str__(self):
        return f"{self.get_kind_display()} source of {self.camera}"


class LiveSessionQuerySet(models.QuerySet):
    def active(self, at):
        """Sessions not ended and not expired at `at`."""
        return self.filter(ended_at__isnull=True, expires_at__gt=at)

    def open(self):
        """Sessions not ended yet, expired or not (the sweep ends the expired ones)."""
        return self.filter(ended_at__isnull=True)

    def with_token(self, token):
        from cameras.live import token_hash

        return self.filter(token_hash=token_hash(token))

    def notified_between(self, start, end):
        """Sessions started in [start, end) on cameras whose rules ask for live-view notices."""
        return self.filter(started_at__gte=start, started_at__lt=end, camera__rules__notify_on_live_view=True)


class LiveSession(models.Model):
    """One viewer watching one camera live, through the portal's relay or the media gateway.

    Only the SHA-256 of the token is stored. The camera may be deleted while someone watches: the
    session then survives (camera set to null) so that its end can still be recorded for the owner.
    """

    camera = models.ForeignKey(Camera, null=True, on_delete=models.SET_NULL, related_name="live_sessions")
    camera_owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                     related_name="+")
    viewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="live_sessions")
    incident = models.ForeignKey("incidents.Incident", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="live_sessions")
    token_hash = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=16, choices=StreamSource.Kind.choices)
    started_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    checked_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_code = models.CharField(max_length=32, blank=True)
    # Set when the "someone is watching" e-mail went to the owner: the task sends it once.
    owner_notified_at = models.DateTimeField(null=True, blank=True)

    objects = LiveSessionQuerySet.as_manager()

    class Meta:
        verbose_name = _("live session")
        verbose_name_plural = _("live sessions")
        ordering = ["-started_at", "pk"]
        indexes = [models.Index(fields=["ended_at", "expires_at"], name="livesession_open")]

    def __str__(self):
        return f"Live session {self.pk} of camera {self.camera_id}"

    @property
    def is_ended(self):
        return self.ended_at is not None


def _prefix_condition(connection, field, prefix):
    """Rows whose field starts with prefix, in a form the field's index can serve.

    SQLite's LIKE ignores case and so cannot use a plain index; the search texts are lower-case and
    SQLite compares bytes, so a range is the same test. PostgreSQL serves LIKE 'x%' from the
    varchar_pattern_ops index.
    """
    if connection.vendor == "sqlite":
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        return models.Q(**{f"{field}__gte": prefix, f"{field}__lt": upper})
    return models.Q(**{f"{field}__startswith": prefix})


class AddressQuerySet(models.QuerySet):
    def number_first(self, prefixes):
        """Addresses whose text read number first ("12 main street ...") starts with one of the prefixes."""
        return self._starting_with("search_text", prefixes).order_by("search_text", "pk")

    def street_first(self, prefixes):
        """Addresses whose text read street first ("main street 12 ...") starts with one of the prefixes."""
        return self._starting_with("street_text", prefixes).order_by("street_text", "pk")

    def containing_words(self, words, *, last_is_partial):
        """Addresses with every word somewhere in their text; an unfinished last word matches a word's start."""
        queryset = self
        for index, word in enumerate(words):
            whole = not (last_is_partial and index == len(words) - 1)
            queryset = queryset.filter(search_text__contains=f" {word} " if whole else f" {word}")
        return queryset.order_by("search_text", "pk")

    def _starting_with(self, field, prefixes):
        from django.db import connections

        connection = connections[self.db]
        condition = models.Q()
        for prefix in prefixes:
            condition |= _prefix_condition(connection, field, prefix)
        return self.filter(condition)


class Address(models.Model):
    """A street address and its point, imported from an OpenAddresses file (`manage.py import_addresses`)."""

    number = models.CharField(_("number"), max_length=32)
    street = models.CharField(_("street"), max_length=200)
    unit = models.CharField(_("unit"), max_length=64, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    latitude = models.FloatField(_("latitude"), validators=[MinValueValidator(-90), MaxValueValidator(90)])
    longitude = models.FloatField(_("longitude"), validators=[MinValueValidator(-180), MaxValueValidator(180)])
    # Normalised words (cameras.geocoding.normalise_words) between single spaces and padded with one
    # at each end, so that " main " finds the whole word: number first, and street first.
    search_text = models.CharField(max_length=500, editable=False)
    street_text = models.CharField(max_length=500, editable=False)
    # The file's HASH, or a digest of the row: importing the same file again adds nothing.
    source_key = models.CharField(max_length=64, unique=True, editable=False)

    objects = AddressQuerySet.as_manager()

    class Meta:
        ordering = ["street", "number", "unit", "pk"]
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        indexes = [
            models.Index(fields=["search_text"], name="address_search_text", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["street_text"], name="address_street_text", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self):
        return self.label

    @property
    def label(self):
        """How the address is shown and filled into a camera's address: "12 Main St, Unit 3, Riverton 10001"."""
        line = f"{self.number} {self.street}"
        if self.unit:
            line += f", {self.unit}"
        place = " ".join(part for part in (self.city, self.postcode) if part)
        return f"{line}, {place}" if place else line
