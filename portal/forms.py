"""Form bases: text without control characters, and choice fields over tenant-owned models that
offer only what the actor may see. Every form of the portal derives from one of these."""

from __future__ import annotations

from typing import Any

from django import forms

from portal.tenancy.scoping import TenantOwned
from portal.text import TEXT_MAX, ControlCharacterValidator


class TextFormMixin:
    """Every text field refuses control characters (portal.text): a one-line field every C0
    character and DEL, a text area (multi-line) all but line breaks and tabs. NUL is already
    refused by Django's CharField itself."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # type: ignore[attr-defined]
            if isinstance(field, forms.CharField):
                multiline = isinstance(field.widget, forms.Textarea)
                field.validators.append(ControlCharacterValidator(multiline=multiline))


class PortalForm(TextFormMixin, forms.Form):
    pass


class PortalModelForm(TextFormMixin, forms.ModelForm):
    pass


class ScopedFormMixin(TextFormMixin):
    """Re-derives the querysets of model choice fields inside the request's tenant scope.

    Querysets built at import time are unscoped and refuse to run; this gives each form the
    scoped one, so another tenant's id is "not a valid choice", like one that does not exist.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # type: ignore[attr-defined]
            if isinstance(field, forms.ModelChoiceField):
                assert field.queryset is not None  # every model choice field names one
                model = field.queryset.model
                if issubclass(model, TenantOwned):
                    field.queryset = model._default_manager.all()


class ScopedForm(ScopedFormMixin, forms.Form):
    pass


class ScopedModelForm(ScopedFormMixin, forms.ModelForm):
    pass


def long_text_field(label: Any, help_text: Any = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=TEXT_MAX,
        help_text=help_text,
    )
