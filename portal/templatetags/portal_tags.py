from django import forms, template

register = template.Library()


@register.simple_tag
def field_widget(bound_field):
    """The field's widget with the Bootstrap class for its kind and its error state."""
    widget = bound_field.field.widget
    if isinstance(widget, forms.CheckboxInput):
        css_class = "form-check-input"
    elif isinstance(widget, forms.Select):
        css_class = "form-select"
    else:
        css_class = "form-control"
    if bound_field.errors:
        css_class += " is-invalid"
    return bound_field.as_widget(attrs={"class": f"{widget.attrs.get('class', '')} {css_class}".strip()})


@register.filter
def is_checkbox(bound_field):
    return isinstance(bound_field.field.widget, forms.CheckboxInput)


@register.filter
def is_choice_list(bound_field):
    return isinstance(bound_field.field.widget, (forms.RadioSelect, forms.CheckboxSelectMultiple))


@register.simple_tag(takes_context=True)
def active(context, url_name_prefix):
    """'active' when the current page's URL name starts with the given prefix (nav highlighting)."""
    match = getattr(context.get("request"), "resolver_match", None)
    return "active" if match and match.view_name.startswith(url_name_prefix) else ""
