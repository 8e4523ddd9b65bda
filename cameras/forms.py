from datetime import UTC

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from cameras.models import Camera, SharingRules, StreamSource
from portal.forms_rendering import LocalDateTimeInput

DAY_CHOICES = [(0, _("Monday")), (1, _("Tuesday")), (2, _("Wednesday")), (3, _("Thursday")), (4, _("Friday")),
               (5, _("Saturday")), (6, _("Sunday"))]


class CameraForm(forms.Form):
    name = forms.CharField(label=_("Camera name"), max_length=100,
                           help_text=_("For you, e.g. “Front porch”. Police see it in their search."))
    address = forms.CharField(label=_("Address"), max_length=255,
                              widget=forms.TextInput(attrs={"autocomplete": "street-address"}))
    latitude = forms.FloatField(label=_("Latitude"), min_value=-90, max_value=90,
                                help_text=_("Filled in when you click the map; you can also type it."))
    longitude = forms.FloatField(label=_("Longitude"), min_value=-180, max_value=180)
    site_kind = forms.ChoiceField(label=_("Where is it?"), choices=Camera.SiteKind.choices)
    coverage = forms.MultipleChoiceField(label=_("What does it see?"), choices=Camera.Coverage.choices,
                                         widget=forms.CheckboxSelectMultiple, required=False)
    direction_degrees = forms.IntegerField(label=_("Direction it faces (degrees from north, optional)"),
                                           min_value=0, max_value=359, required=False,
                                           help_text=_("0 = north, 90 = east, 180 = south, 270 = west."))
    access_level = forms.ChoiceField(label=_("What may police do?"), choices=Camera.AccessLevel.choices,
                                     widget=forms.RadioSelect, initial=Camera.AccessLevel.REGISTERED,
                                     help_text=_("Integrated cameras can be watched live, only under the rules you "
                                                 "set next. Most homes choose “Registered”."))

    @classmethod
    def initial_for(cls, camera):
        return {name: getattr(camera, name) for name in cls.base_fields}

    @property
    def suggests_while_typing(self):
        """The local address search answers as the owner types; a Nominatim server only on Find or Enter,
        as the public server's usage policy asks (no autocomplete)."""
        return settings.GEOCODER == "local"


class SharingRulesForm(forms.Form):
    live_mode = forms.ChoiceField(label=_("Live access"), choices=SharingRules.LiveMode.choices,
                                  widget=forms.RadioSelect)
    schedule_days = forms.TypedMultipleChoiceField(label=_("Days"), choices=DAY_CHOICES, coerce=int,
                                                   widget=forms.CheckboxSelectMultiple, required=False)
    schedule_start = forms.TimeField(label=_("Starts at"), required=False,
                                     widget=forms.TimeInput(attrs={"type": "time"}))
    schedule_end = forms.TimeField(label=_("Ends at"), required=False, widget=forms.TimeInput(attrs={"type": "time"}),
                                   help_text=_("An end earlier than the start runs past midnight (18:00 to 07:00)."))
    incident_radius_m = forms.IntegerField(label=_("Alarm or 911 event within (metres)"), min_value=10,
                                           max_value=5000, initial=200)
    incident_minutes = forms.IntegerField(label=_("For how long after the event (minutes)"), min_value=5,
                                          max_value=720, initial=60)
    accept_requests = forms.BooleanField(label=_("Police may e-mail me requests for recorded footage"),
                                         required=False)
    notify_on_live_view = forms.BooleanField(
        label=_("E-mail me whenever this camera is viewed live"), required=False,
        help_text=_("How: an e-mail each time, one e-mail a day, or none — your choice on your account page."))
    location_precision = forms.ChoiceField(label=_("Location shown to police"),
                                           choices=SharingRules.Precision.choices, widget=forms.RadioSelect)
    paused_until = forms.DateTimeField(
        label=_("Pause all sharing of this camera until (optional)"), required=False,
        widget=LocalDateTimeInput(),
    )
    apply_to_all = forms.BooleanField(label=_("Apply these rules to all my cameras"), required=False,
                                      help_text=_("Live rules are copied only to your integrated cameras."))

    def __init__(self, *args, camera, **kwargs):
        super().__init__(*args, **kwargs)
        self.camera = camera
        if not camera.is_integrated:
            self.fields["live_mode"].choices = [(SharingRules.LiveMode.NEVER, _("Never (registered camera)"))]
            self.fields["live_mode"].help_text = _("Only integrated cameras can be watched live.")

    @classmethod
    def initial_for(cls, rules):
        window = rules.schedule[0] if rules.schedule else {"days": [0, 1, 2, 3, 4], "start": "18:00", "end": "07:00"}
        initial = {name: getattr(rules, name) for name in cls.base_fields if hasattr(rules, name)}
        if rules.paused_indefinitely:
            initial["paused_until"] = None
        initial.update(schedule_days=window["days"], schedule_start=window["start"], schedule_end=window["end"])
        return initial

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("live_mode") == SharingRules.LiveMode.SCHEDULE:
            for name in ("schedule_days", "schedule_start", "schedule_end"):
                if not cleaned.get(name) and name not in self.errors:
                    self.add_error(name, _("Needed for a weekly schedule."))
        return cleaned

    def rule_fields(self):
        """The cleaned data in the shape sharing_rules_update() takes."""
        data = self.cleaned_data
        schedule = []
        if data.get("schedule_days") and data.get("schedule_start") and data.get("schedule_end"):
            schedule = [{"days": data["schedule_days"], "start": data["schedule_start"].strftime("%H:%M"),
                         "end": data["schedule_end"].strftime("%H:%M")}]
        paused_until = data.get("paused_until")
        return {
            "live_mode": data["live_mode"], "schedule": schedule,
            "incident_radius_m": data["incident_radius_m"], "incident_minutes": data["incident_minutes"],
            "accept_requests": data["accept_requests"], "notify_on_live_view": data["notify_on_live_view"],
            "location_precision": data["location_precision"],
            "paused_until": paused_until.astimezone(UTC) if paused_until else None,
        }


class StreamSourceForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of stream"), choices=StreamSource.Kind.choices)
    url = forms.CharField(label=_("Stream address (URL)"), max_length=2000, required=False,
                          widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
                          help_text=_("e.g. http://camera.example.net/video.mjpg or rtsp://gateway:8554/front. "
                                      "Stored encrypted and never shown again, not even to you."))
    username = forms.CharField(label=_("User name (optional)"), max_length=200, required=False,
                               widget=forms.TextInput(attrs={"autocomplete": "off"}))
    password = forms.CharField(label=_("Password (optional)"), max_length=200, required=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}, render_value=False))

    SCHEMES = {"mjpeg": ("http://", "https://"), "snapshot": ("http://", "https://"), "hls": ("http://", "https://"),
               "rtsp": ("rtsp://", "rtsps://")}

    def __init__(self, *args, has_source, **kwargs):
        super().__init__(*args, **kwargs)
        self.has_source = has_source
        if has_source:
            self.fields["url"].help_text = _("A source is stored. Leave blank to keep it; a new address replaces "
                                             "the address, user name and password.")

    def clean(self):
        cleaned = super().clean()
        url, kind = cleaned.get("url", "").strip(), cleaned.get("kind")
        if not url and not self.has_source:
            self.add_error("url", _("Enter the address of the stream."))
        elif url and kind and not url.lower().startswith(self.SCHEMES[kind]):
            self.add_error("url", _("A %(kind)s address starts with %(schemes)s.") % {
                "kind": dict(StreamSource.Kind.choices)[kind], "schemes": " or ".join(self.SCHEMES[kind])})
        return cleaned


class OnvifDiscoverForm(forms.Form):
    """Where to ask the camera for its RTSP address (ONVIF Profile S)."""

    host = forms.CharField(label=_("Camera's address (host name or IP)"), max_length=253,
                           widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false",
                                                         "inputmode": "url"}),
                           help_text=_("Only the name or number, e.g. camera.example.net or 203.0.113.7."))
    port = forms.IntegerField(label=_("ONVIF port"), min_value=1, max_value=65535, initial=80,
                              widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
                              help_text=_("Usually 80; some cameras use 8000 or 8080."))
    onvif_username = forms.CharField(label=_("ONVIF user name"), max_length=200,
                                     widget=forms.TextInput(attrs={"autocomplete": "off"}))
    onvif_password = forms.CharField(label=_("ONVIF password"), max_length=200,
                                     widget=forms.PasswordInput(attrs={"autocomplete": "new-password"},
                                                                render_value=False))


class PauseForm(forms.Form):
    until = forms.DateTimeField(label=_("Pause all my cameras until"), required=False,
                                widget=LocalDateTimeInput())

    def paused_until(self):
        until = self.cleaned_data.get("until")
        return until.astimezone(UTC) if until else None


