from django import forms
from django.forms.renderers import TemplatesSetting


class PortalFormRenderer(TemplatesSetting):
    """Renders every form, ours and allauth's, with the site's accessible Bootstrap markup."""

    form_template_name = "portal/forms/form.html"
    field_template_name = "portal/forms/field.html"


class LocalDateTimeInput(forms.DateTimeInput):
    """A datetime-local field. The browser reads only an ISO value (2026-03-01T22:00): a value in the page's
    language (Spanish writes 01/03/2026 22:00) would show the field empty."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")
