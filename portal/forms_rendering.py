from django.forms.renderers import TemplatesSetting


class PortalFormRenderer(TemplatesSetting):
    """Renders every form, ours and allauth's, with the site's accessible Bootstrap markup."""

    form_template_name = "portal/forms/form.html"
    field_template_name = "portal/forms/field.html"
