from django import forms
from django.utils.translation import gettext_lazy as _

from incidents.models import Incident
from portal import roles
from portal.forms_rendering import LocalDateTimeInput
from portal.models import User


class IncidentForm(forms.Form):
    incident_type = forms.ChoiceField(label=_("Type"), choices=Incident.Type.choices)
    priority = forms.TypedChoiceField(label=_("Priority"), choices=Incident.Priority.choices, coerce=int,
                                      initial=Incident.Priority.URGENT)
    case_number = forms.CharField(label=_("Case number"), max_length=64, required=False)
    address = forms.CharField(label=_("Address"), max_length=255, required=False)
    latitude = forms.FloatField(label=_("Latitude"), min_value=-90, max_value=90)
    longitude = forms.FloatField(label=_("Longitude"), min_value=-180, max_value=180)
    window_start = forms.DateTimeField(label=_("From"), widget=LocalDateTimeInput())
    window_end = forms.DateTimeField(label=_("Until"), widget=LocalDateTimeInput())
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    assigned_officers = forms.ModelMultipleChoiceField(
        label=_("Assigned officers"), required=False, widget=forms.CheckboxSelectMultiple,
        queryset=User.objects.in_role(roles.OFFICER).order_by("full_name"))


class AreaRequestForm(forms.Form):
    # Visible, so the centre can be typed as well as clicked on the map (the keyboard's way to move it).
    latitude = forms.FloatField(label=_("Centre latitude"), min_value=-90, max_value=90,
                                widget=forms.NumberInput(attrs={"step": "any"}),
                                help_text=_("Filled in when you click the map; you can also type it."))
    longitude = forms.FloatField(label=_("Centre longitude"), min_value=-180, max_value=180,
                                 widget=forms.NumberInput(attrs={"step": "any"}))
    radius_m = forms.IntegerField(label=_("Radius (metres)"), min_value=10, max_value=5000)
    window_start = forms.DateTimeField(label=_("Footage from"),
                                       widget=LocalDateTimeInput())
    window_end = forms.DateTimeField(label=_("Footage until"),
                                     widget=LocalDateTimeInput())
    case_number = forms.CharField(label=_("Case number"), max_length=64, required=False)
    message = forms.CharField(label=_("Message to owners"), required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 3}),
                              help_text=_("What to look for. Do not include victims' names or the exact address."))
