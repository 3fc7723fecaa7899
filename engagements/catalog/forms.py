"""Forms of the catalog pages: the entitlement grid, the cadence grid, plans and functions.

The grids name one input per cell (`cell-<plan id>-<function id>`, `methods-…`, `frequency-…`)
and carry the list of cells they showed, so saving a page that was loaded before another admin
added a plan or function leaves the cells it never showed as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.forms.models import fields_for_model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from engagements.catalog.models import Cadence, Frequency, Method, Plan, ServiceFunction
from engagements.catalog.services import PLAN_FIELDS
from portal.forms import PortalForm

Cell = tuple[int, int]  # (plan id, function id)


def cell_key(plan_id: int, function_id: int) -> str:
    return f"{plan_id}-{function_id}"


class _GridForm(PortalForm):
    shown = forms.CharField(widget=forms.HiddenInput)

    error_messages = {
        "stale": gettext_lazy("The page was out of date. Reload it and make your changes again."),
    }

    def __init__(
        self,
        *args: Any,
        plans: Sequence[Plan],
        functions: Sequence[ServiceFunction],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.plans = plans
        self.functions = functions
        self.plans_by_id = {plan.pk: plan for plan in plans}
        self.functions_by_id = {function.pk: function for function in functions}

    def grid_cells(self) -> Iterable[tuple[ServiceFunction, Plan]]:
        for function in self.functions:
            for plan in self.plans:
                yield function, plan

    def clean_shown(self) -> set[Cell]:
        """The cells the submitted page showed and that still exist."""
        shown: set[Cell] = set()
        for key in self.cleaned_data["shown"].split():
            plan_id, _sep, function_id = key.partition("-")
            if not (plan_id.isdigit() and function_id.isdigit()):
                raise forms.ValidationError(self.error_messages["stale"], code="stale")
            cell = (int(plan_id), int(function_id))
            if cell[0] in self.plans_by_id and cell[1] in self.functions_by_id:
                shown.add(cell)
        return shown


class EntitlementMatrixForm(_GridForm):
    """Table 1 as a grid: one checkbox per (plan, function)."""

    def __init__(self, *args: Any, entitled: set[Cell], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.entitled = entitled
        keys = []
        for function, plan in self.grid_cells():
            keys.append(cell_key(plan.pk, function.pk))
            self.fields[self.field_name(plan.pk, function.pk)] = forms.BooleanField(
                required=False,
                initial=(plan.pk, function.pk) in entitled,
                widget=forms.CheckboxInput(
                    attrs={
                        "aria-label": _("%(plan)s includes %(function)s")
                        % {"plan": plan.display_name, "function": function.display_name}
                    }
                ),
            )
        self.fields["shown"].initial = " ".join(keys)

    @staticmethod
    def field_name(plan_id: int, function_id: int) -> str:
        return f"cell-{cell_key(plan_id, function_id)}"

    def rows(self) -> list[tuple[ServiceFunction, list[forms.BoundField]]]:
        return [
            (function, [self[self.field_name(plan.pk, function.pk)] for plan in self.plans])
            for function in self.functions
        ]

    def wanted_cells(self) -> set[Cell]:
        """The matrix to save: ticked cells of the page, and every cell it did not show as is."""
        shown = self.cleaned_data["shown"]
        ticked = {
            cell
            for cell in shown
            if self.cleaned_data.get(self.field_name(*cell))  # absent field: not on the grid
        }
        return ticked | (self.entitled - shown)


@dataclass
class CadenceCell:
    plan: Plan
    function: ServiceFunction
    methods: forms.BoundField
    frequency: forms.BoundField

    @property
    def errors(self) -> list[str]:
        return [*self.methods.errors, *self.frequency.errors]


@dataclass(frozen=True)
class CadenceChange:
    plan: Plan
    function: ServiceFunction
    methods: list[str]
    frequency: str | None


class CadenceGridForm(_GridForm):
    """Table 2 as a grid: per (plan, deliverable) the methods and the frequency.

    Only cells whose plan includes the function, or that already have a cadence, are editable.
    """

    def __init__(
        self,
        *args: Any,
        cadences: dict[Cell, Cadence],
        entitled: set[Cell],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.cadences = cadences
        self.editable = entitled | set(cadences)
        method_labels = dict(Method.choices)
        keys = []
        for function, plan in self.grid_cells():
            cell = (plan.pk, function.pk)
            if cell not in self.editable:
                continue
            keys.append(cell_key(*cell))
            cadence = cadences.get(cell)
            names = {"plan": plan.display_name, "function": function.display_name}
            self.fields[f"methods-{cell_key(*cell)}"] = forms.MultipleChoiceField(
                choices=[(value, method_labels[value]) for value in Method.values],
                required=False,
                initial=list(cadence.methods) if cadence else [],
                widget=forms.CheckboxSelectMultiple,
                label=_("Methods of %(function)s in %(plan)s") % names,
            )
            self.fields[f"frequency-{cell_key(*cell)}"] = forms.ChoiceField(
                choices=[("", _("— none —")), *Frequency.choices],
                required=False,
                initial=cadence.frequency if cadence else "",
                widget=forms.Select(
                    attrs={"aria-label": _("Frequency of %(function)s in %(plan)s") % names}
                ),
                label=_("Frequency of %(function)s in %(plan)s") % names,
            )
        self.fields["shown"].initial = " ".join(keys)

    def rows(self) -> list[tuple[ServiceFunction, list[CadenceCell | None]]]:
        rows = []
        for function in self.functions:
            cells: list[CadenceCell | None] = []
            for plan in self.plans:
                key = cell_key(plan.pk, function.pk)
                if (plan.pk, function.pk) in self.editable:
                    methods, frequency = self[f"methods-{key}"], self[f"frequency-{key}"]
                    cells.append(CadenceCell(plan, function, methods, frequency))
                else:
                    cells.append(None)
            rows.append((function, cells))
        return rows

    def changes(self) -> list[CadenceChange]:
        """The shown cells whose methods or frequency differ from what is saved."""
        changes = []
        for plan_id, function_id in sorted(self.cleaned_data["shown"] & self.editable):
            key = cell_key(plan_id, function_id)
            methods = [m for m in Method.values if m in self.cleaned_data[f"methods-{key}"]]
            frequency = self.cleaned_data[f"frequency-{key}"] or None
            current = self.cadences.get((plan_id, function_id))
            if current is None and not methods:
                continue
            if (
                current is not None
                and methods
                and set(current.methods) == set(methods)
                and current.frequency == frequency
            ):
                continue
            changes.append(
                CadenceChange(
                    self.plans_by_id[plan_id], self.functions_by_id[function_id], methods, frequency
                )
            )
        return changes

    def add_cell_error(self, change: CadenceChange, fields: dict[str, Any], detail: str) -> None:
        key = cell_key(change.plan.pk, change.function.pk)
        if not fields:
            self.add_error(f"methods-{key}", detail)
        for name, messages in fields.items():
            target = f"{name}-{key}" if name in ("methods", "frequency") else f"methods-{key}"
            for message in messages if isinstance(messages, list) else [messages]:
                self.add_error(target, message)


class PlanForm(PortalForm):
    """A plan's settings; the code only when creating (it is fixed afterwards)."""

    def __init__(self, *args: Any, plan: Plan | None = None, **kwargs: Any) -> None:
        if plan is not None and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(plan, name) for name in PLAN_FIELDS}
        super().__init__(*args, **kwargs)
        names = PLAN_FIELDS if plan is not None else ("code", *PLAN_FIELDS)
        self.fields.update(fields_for_model(Plan, fields=names))
        if plan is None:
            self.fields["code"].help_text = _(
                "A fixed identifier (letters, digits, - and _), used by the API. "
                "It cannot be changed later."
            )


FUNCTION_TEXTS = ("name", "name_ko", "description", "description_ko")


class ServiceFunctionForm(PortalForm):
    """A function's name and description; the code only when creating."""

    def __init__(self, *args: Any, function: ServiceFunction | None = None, **kwargs: Any) -> None:
        if function is not None and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(function, name) for name in FUNCTION_TEXTS}
        super().__init__(*args, **kwargs)
        names = FUNCTION_TEXTS if function is not None else ("code", *FUNCTION_TEXTS)
        self.fields.update(fields_for_model(ServiceFunction, fields=names))
        self.fields["description"].widget.attrs["rows"] = 3
        self.fields["description_ko"].widget.attrs["rows"] = 3
        if function is None:
            self.fields["code"].help_text = _(
                "A fixed identifier (letters, digits, - and _), used by the API and by the "
                "features tied to the function. It cannot be changed later."
            )
