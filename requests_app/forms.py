from django import forms
from django.utils.translation import gettext_lazy as _


class DeclineForm(forms.Form):
    no_footage = forms.BooleanField(label=_("I have no footage of that time"), required=False)
    reason = forms.CharField(label=_("Anything you want to tell the investigator (optional)"), required=False,
                             max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))


class HoldForm(forms.Form):
    reason = forms.CharField(label=_("Reason (kept in the audit log; the owner does not see it)"), max_length=1000,
                             widget=forms.Textarea(attrs={"rows": 3}))


class EvidencePackageForm(forms.Form):
    """Which of the incident's accepted files go into a package (checkboxes, all ticked at first)."""

    submissions = forms.MultipleChoiceField(label=_("Files to include"), widget=forms.CheckboxSelectMultiple,
                                            error_messages={"required": _("Choose at least one file.")})

    def __init__(self, *args, submissions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["submissions"].choices = [
            (str(each.pk), f"{each.original_name} · {each.footage_request.owner.display_name}")
            for each in submissions]
        self.fields["submissions"].initial = [str(each.pk) for each in submissions]


class PackageLinkForm(forms.Form):
    recipient = forms.CharField(label=_("Who the link is for"), max_length=200,
                                help_text=_("For example “District Attorney’s office, J. Rivera”. Kept in the "
                                            "audit log."))
    days = forms.IntegerField(label=_("Days until the link expires"), min_value=1, max_value=30, initial=7)
