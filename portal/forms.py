"""Form base: choice fields over tenant-owned models offer only what the actor may see."""

from __future__ import annotations

from typing import Any

from django import forms

from portal.tenancy.scoping import TenantOwned


class ScopedFormMixin:
    """Re-derives the querysets of model choice fields inside the request's tenant scope.

    Querysets built at import time are unscoped and refuse to run; this gives each form the
    scoped one, so another tenant's id is "not a valid choice", like one that does not exist.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[misc]
        for field in self.fields.values():  # type: ignore[attr-defined]
            if isinstance(field, forms.ModelChoiceField):
                model = field.queryset.model
                if issubclass(model, TenantOwned):
                    field.queryset = model._default_manager.all()


class ScopedForm(ScopedFormMixin, forms.Form):
    pass


class ScopedModelForm(ScopedFormMixin, forms.ModelForm):
    pass
