"""Form bases: text without control characters, and choice fields over tenant-owned models that
offer only what the actor may see. Every form of the portal derives from one of these."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.models import ModelChoiceIterator
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from portal.tenancy.scoping import TenantOwned
from portal.text import TEXT_MAX, ControlCharacterValidator


def _attributes(attrs: dict[str, Any]) -> str:
    """Django's `django/forms/widgets/attrs.html`, in Python."""
    return "".join(
        f" {conditional_escape(name)}"
        + ("" if value is True else f'="{conditional_escape(f"{value}")}"')
        for name, value in attrs.items()
        if value is not False
    )


class OptionsSelect(forms.Select):
    """A select that writes its options in Python: the same markup as Django's
    `select.html`, which includes a template per option. A select of a few thousand choices
    (an admin picking one of the provider's engagements, a time zone) spent most of its page's
    time in those includes: 600 ms for 3,000 engagements (issue 17)."""

    @classmethod
    def of(cls, select: forms.Select) -> OptionsSelect:
        """This widget in place of `select`, with its attributes and choices."""
        widget = cls.__new__(cls)
        widget.__dict__ = select.__dict__.copy()
        return widget

    def use_required_attribute(self, initial: Any) -> bool:
        # Django reads the first choice to tell whether it is the empty one; of a model choice
        # field without an empty label that is a model instance (never empty), read by a query
        # of its own. The answer is the same without it.
        choices = self.choices
        if isinstance(choices, ModelChoiceIterator) and choices.field.empty_label is None:
            return False
        return super().use_required_attribute(initial)

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [f'<select name="{conditional_escape(widget["name"])}"']
        parts.append(_attributes(widget["attrs"]) + ">")
        for group_name, group_choices, _index in widget["optgroups"]:
            if group_name:
                parts.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
            for option in group_choices:
                shown = f"{option['value']}"  # a plain str, as the template's stringformat
                parts.append(
                    f'\n  <option value="{conditional_escape(shown)}"'
                    f"{_attributes(option['attrs'])}>{conditional_escape(option['label'])}"
                    "</option>\n"
                )
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return mark_safe("".join(parts))  # noqa: S308 (every value escaped above)


class _Offered(ModelChoiceIterator):
    """The choices of a model choice field from objects already loaded (see `offer`)."""

    def __init__(self, field: forms.ModelChoiceField, objects: list[Any]) -> None:
        super().__init__(field)
        self.objects = objects

    def __iter__(self) -> Any:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.objects:
            yield self.choice(obj)

    def __len__(self) -> int:
        return len(self.objects) + (self.field.empty_label is not None)

    def __bool__(self) -> bool:
        return self.field.empty_label is not None or bool(self.objects)


def offer(field: forms.Field, objects: list[Any]) -> None:
    """Let a model choice field show `objects` — the rows of its own queryset, which the view
    has already read — as its options, instead of reading the queryset again to render them
    (an admin's select of every engagement of the provider, issue 17). A submitted choice is
    still looked up in the queryset."""
    assert isinstance(field, forms.ModelChoiceField)
    field.iterator = lambda of: _Offered(of, objects)  # type: ignore[assignment]
    field.widget.choices = field.choices


class TextFormMixin:
    """Every text field refuses control characters (portal.text): a one-line field every C0
    character and DEL, a text area (multi-line) all but line breaks and tabs. NUL is already
    refused by Django's CharField itself. A plain select writes its options without a
    template each (`OptionsSelect`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # type: ignore[attr-defined]
            if isinstance(field, forms.CharField):
                multiline = isinstance(field.widget, forms.Textarea)
                field.validators.append(ControlCharacterValidator(multiline=multiline))
            if type(field.widget) is forms.Select:
                field.widget = OptionsSelect.of(field.widget)


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
