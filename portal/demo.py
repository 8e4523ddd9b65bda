"""Demo data for `manage.py seed_demo`: owners and staff a newcomer can sign in as.

Idempotent: running it again updates the same accounts and keeps each staff member's TOTP
secret, so an authenticator app set up once keeps working.
"""

import math
import random
from dataclasses import dataclass
from pathlib import Path

from allauth.account.models import EmailAddress
from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction

from cameras.geocoding import address_import
from cameras.models import Address, Camera, SharingRules, StreamSource
from cameras.services import camera_register, sharing_rules_update, stream_source_set
from portal import roles
from portal.models import Audience, User, Waiver
from portal.services import staff_create, waiver_create, waiver_publish, waiver_sign

DEMO_PASSWORD = "community-cameras"  # noqa: S105  (printed by seed_demo; demo only)

OWNERS = [
    {"email": "resident@example.org", "full_name": "Maria Lopez", "account_type": User.AccountType.RESIDENT,
     "phone": "555-010-2233", "business_name": ""},
    {"email": "business@example.org", "full_name": "Sam Okafor", "account_type": User.AccountType.BUSINESS,
     "phone": "555-010-7788", "business_name": "Corner Market"},
]

STAFF = [
    {"email": "operator@example.org", "full_name": "Dana Reyes", "badge_number": "4411", "roles": [roles.OPERATOR]},
    {"email": "officer@example.org", "full_name": "Chris Park", "badge_number": "2718", "roles": [roles.OFFICER]},
    {"email": "supervisor@example.org", "full_name": "Lt. Jordan Blake", "badge_number": "1007",
     "roles": [roles.SUPERVISOR]},
    {"email": "oversight@example.org", "full_name": "Privacy Board (demo)", "badge_number": "",
     "roles": [roles.OVERSIGHT]},
]


@dataclass
class StaffLogin:
    email: str
    roles: list
    totp_secret: str
    otpauth_uri: str


def _ensure_owner(details, password_hash=None):
    """Create or refresh a demo owner; a new one gets the demo password (hashed once per run)."""
    user = User.objects.filter(email=details["email"]).first()
    if user is None:
        user = User(email=details["email"], password=password_hash or make_password(DEMO_PASSWORD))
    for field, value in details.items():
        setattr(user, field, value)
    user.is_staff = False
    user.save()
    EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
    return user


def _ensure_totp(user):
    """The user's TOTP secret, creating the authenticator (and recovery codes) on first run."""
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if authenticator is None:
        authenticator = TOTP.activate(user, generate_totp_secret()).instance
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).exists():
        RecoveryCodes.activate(user)
    return get_mfa_adapter().decrypt(authenticator.data["secret"])


WAIVER_TEXT = {
    Audience.RESIDENT: (
        "Community Camera Program: agreement for residents",
        "1. Joining is voluntary. You may pause sharing, remove a camera or leave the program at any time.\n\n"
        "2. Registering a camera tells the police department that it exists and where. It does not give the "
        "police access to your recordings or to a live picture.\n\n"
        "3. After an incident nearby, police staff may e-mail you a request for footage of a stated time window. "
        "You decide whether to answer. Footage you upload becomes evidence for that case and is kept under the "
        "city's retention rules.\n\n"
        "4. Every police access to your cameras is recorded and shown to you in your access log.\n\n"
        "5. You confirm that your cameras do not record places where people expect privacy, such as a "
        "neighbour's windows or yard.",
    ),
    Audience.BUSINESS: (
        "Community Camera Program: agreement for businesses",
        "1. Joining is voluntary. You may pause sharing, remove a camera or leave the program at any time.\n\n"
        "2. Registered cameras: as for residents, police may ask for recorded footage; you decide.\n\n"
        "3. Integrated cameras: you may let police watch a live picture under the rule you choose (never, a "
        "weekly schedule, only during an alarm or 911 event nearby, or always). The portal enforces your rule, "
        "logs every view and can e-mail you each time.\n\n"
        "4. You confirm that you may share these cameras and that they do not record places where people expect "
        "privacy (restrooms, changing rooms).",
    ),
}
STREETS = ["Main St", "Oak Ave", "River Rd", "Maple St", "Church St", "Market St", "Elm St", "Park Ave", "Mill Rd",
           "Bridge St", "Cedar Ln", "Union St", "Water St", "High St", "Pine St", "Lincoln Ave"]
FIRST = ["Maria", "James", "Aisha", "Wei", "Carlos", "Olivia", "Noah", "Fatima", "Liam", "Sofia", "Ethan", "Amara"]
LAST = ["Lopez", "Smith", "Johnson", "Chen", "Garcia", "Brown", "Nguyen", "Okafor", "Davis", "Patel", "Kim", "Rossi"]
SHOPS = ["Bakery", "Pharmacy", "Hardware", "Diner", "Laundromat", "Books", "Grocery", "Auto Repair", "Cafe",
         "Barbershop", "Florist", "Deli"]
DEMO_OWNER_COUNT = 150
# The demo town's street grid around the default map centre (cameras/demo/make_addresses.py writes it).
DEMO_ADDRESSES = Path(__file__).resolve().parent.parent / "cameras" / "demo" / "addresses.csv"
SNAP_TO_ADDRESS_M = 600


def _ensure_waivers(supervisor):
    for audience, (title, body) in WAIVER_TEXT.items():
        if not Waiver.objects.filter(audience=audience, is_current=True).exists():
            waiver_publish(waiver=waiver_create(audience=audience, title=title, body=body, actor=supervisor),
                           actor=supervisor)


def _sign_current(user):
    waiver = Waiver.objects.current_for(user)
    if waiver and not waiver.signatures.filter(user=user).exists():
        waiver_sign(user=user, waiver=waiver, typed_name=user.full_name, agreed=True, ip_address="127.0.0.1",
                    user_agent="seed_demo")


def _random_point(rng, centre_lat, centre_lng):
    # Denser near the town centre, thinning out to about 3 km.
    distance = abs(rng.gauss(0, 1100)) + 30
    bearing = rng.uniform(0, 2 * math.pi)
    lat = centre_lat + (distance * math.cos(bearing)) / 111_195
    lng = centre_lng + (distance * math.sin(bearing)) / (111_195 * math.cos(math.radians(centre_lat)))
    return round(lat, 6), round(lng, 6)


def _demo_rules(rng, camera):
    mode = SharingRules.LiveMode.NEVER
    schedule = []
    if camera.is_integrated:
        mode = rng.choice([SharingRules.LiveMode.SCHEDULE, SharingRules.LiveMode.INCIDENT,
                           SharingRules.LiveMode.ALWAYS, SharingRules.LiveMode.NEVER])
        if mode == SharingRules.LiveMode.SCHEDULE:
            schedule = [rng.choice([{"days": [0, 1, 2, 3, 4], "start": "18:00", "end": "07:00"},
                                    {"days": [5, 6], "start": "00:00", "end": "23:59"},
                                    {"days": [0, 1, 2, 3, 4, 5, 6], "start": "22:00", "end": "06:00"}])]
    return {"live_mode": mode, "schedule": schedule, "incident_radius_m": rng.choice([100, 200, 400]),
            "incident_minutes": rng.choice([30, 60, 120]), "accept_requests": rng.random() > 0.1,
            "paused_until": None, "notify_on_live_view": rng.random() > 0.5,
            "location_precision": (SharingRules.Precision.APPROXIMATE if rng.random() < 0.3
                                   else SharingRules.Precision.EXACT)}


def _nearest_address(addresses, lat, lng):
    """The demo address nearest to the point if one is within SNAP_TO_ADDRESS_M (another map centre has none)."""
    scale = math.cos(math.radians(lat))
    best = min(addresses, key=lambda a: (a.latitude - lat) ** 2 + ((a.longitude - lng) * scale) ** 2, default=None)
    if best is None or math.hypot(best.latitude - lat, (best.longitude - lng) * scale) * 111_195 > SNAP_TO_ADDRESS_M:
        return None
    return best


def _register_demo_cameras(rng, owner, count, centre, addresses=()):
    street = rng.choice(STREETS)
    number = rng.randint(1, 1999)
    lat, lng = _random_point(rng, *centre)
    address = f"{number} {street}"
    nearest = _nearest_address(addresses, lat, lng)
    if nearest is not None:  # the camera is at a real demo address, which the address search finds
        lat, lng, address = nearest.latitude, nearest.longitude, f"{nearest.number} {nearest.street}"
    business = owner.account_type == User.AccountType.BUSINESS
    for index in range(count):
        camera = camera_register(
            owner=owner, name=["Front door", "Driveway", "Back yard", "Side gate", "Entrance", "Parking lot",
                               "Register", "Loading dock"][(index + (4 if business else 0)) % 8],
            latitude=round(lat + rng.uniform(-0.0001, 0.0001), 6),
            longitude=round(lng + rng.uniform(-0.0001, 0.0001), 6),
            address=address, site_kind=Camera.SiteKind.BUSINESS if business else Camera.SiteKind.HOME,
            coverage=rng.sample(["street", "sidewalk", "entrance", "parking", "driveway", "yard"], 2),
            access_level=(Camera.AccessLevel.INTEGRATED if business and rng.random() < 0.6
                          else Camera.AccessLevel.REGISTERED),
            direction_degrees=rng.choice([None, 0, 90, 180, 270]),
        )
        sharing_rules_update(camera=camera, actor=owner, **_demo_rules(rng, camera))


def _ensure_city(supervisor):
    """About 150 owners with several hundred cameras around the town centre (MAP_CENTER_*)."""
    rng = random.Random(2026)  # noqa: S311  (demo data, reproducible on purpose)
    password_hash = make_password(DEMO_PASSWORD)
    centre = tuple(float(value) for value in settings.LEAFLET_CONFIG["DEFAULT_CENTER"])
    addresses = list(Address.objects.only("number", "street", "latitude", "longitude"))
    _ensure_waivers(supervisor)
    for details in OWNERS:
        owner = User.objects.get(email=details["email"])
        _sign_current(owner)
        if not owner.cameras.exists():
            _register_demo_cameras(rng, owner, 2, centre, addresses)
    for number in range(DEMO_OWNER_COUNT):
        business = number % 4 == 0
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"owner{number:03d}@demo.example.org"
        details = {"email": email, "full_name": f"{first} {last}", "phone": f"555-{rng.randint(1000, 9999)}",
                   "account_type": User.AccountType.BUSINESS if business else User.AccountType.RESIDENT,
                   "business_name": f"{last}'s {rng.choice(SHOPS)}" if business else ""}
        owner = _ensure_owner(details, password_hash)
        count = rng.choice([1, 2, 2, 3, 4, 6]) if business else rng.choice([1, 1, 2, 2, 3])
        if number % 10 != 9:  # a few owners have not signed yet
            _sign_current(owner)
        if not owner.cameras.exists():
            _register_demo_cameras(rng, owner, count, centre, addresses)


@transaction.atomic
def demo_seed():
    """Create or refresh the demo accounts and city; returns the staff sign-in details to print."""
    for details in OWNERS:
        _ensure_owner(details)
    logins = []
    supervisor = None
    for details in STAFF:
        user, _ = staff_create(**details, password=DEMO_PASSWORD)
        supervisor = user if roles.SUPERVISOR in details["roles"] else supervisor
        secret = _ensure_totp(user)
        uri = get_mfa_adapter().build_totp_url(user, secret)
        logins.append(StaffLogin(user.email, details["roles"], secret, uri))
    _ensure_addresses()
    _ensure_city(supervisor)
    _ensure_demo_streams()
    _ensure_incident()
    return logins


def _ensure_addresses():
    """The demo town's addresses for the camera form's address search; a second run adds nothing."""
    with DEMO_ADDRESSES.open(newline="", encoding="utf-8") as lines:
        address_import(lines=lines)


def _ensure_demo_streams():
    """Point every integrated demo camera without a source at the demo cameras (cameras/demo_camera.py)."""
    if not settings.DEMO_CAMERAS_PORT:
        return
    for camera in Camera.objects.integrated().filter(stream__isnull=True).select_related("owner"):
        stream_source_set(camera=camera, actor=camera.owner, kind=StreamSource.Kind.MJPEG,
                          url=f"http://127.0.0.1:{settings.DEMO_CAMERAS_PORT}/cam/{camera.pk}/mjpeg")


def _ensure_incident():
    """One open incident near the town centre, so a newcomer can try an area request at once."""
    from datetime import timedelta

    from django.utils import timezone

    from incidents.models import Incident
    from incidents.services import incident_create

    if Incident.objects.exists():
        return
    operator = User.objects.get(email="operator@example.org")
    officer = User.objects.get(email="officer@example.org")
    lat, lng = (float(value) for value in settings.LEAFLET_CONFIG["DEFAULT_CENTER"])
    end = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    incident_create(created_by=operator, assigned_officers=[officer], incident_type=Incident.Type.BURGLARY,
                    priority=Incident.Priority.URGENT, case_number="RPD-26-004211", latitude=lat + 0.001,
                    longitude=lng - 0.0015, address="1815 Market St", description="Rear door forced overnight.",
                    window_start=end - timedelta(hours=6), window_end=end)
