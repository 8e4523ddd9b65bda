from django import forms
from django.utils.translation import gettext_lazy as _


class DeclineForm(forms.Form):
    no_footage = forms.BooleanField(label=_("I have no footage of that time"), required=False)
    reason = forms.CharField(label=_("Anything you want to tell the investigator (optional)"), required=False,
                             max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))


class HoldForm(forms.Form):
    reason = forms.CharField(label=_("Reason (kept in the audit log; the owner does not see it)"), max_length=1000,
                             widget=forms.Textarea(attrs={"rows": 3}))
