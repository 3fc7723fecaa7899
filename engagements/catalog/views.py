"""Catalog pages: provider admins edit the entitlement matrix (SPEC Table 1), the cadences
(Table 2), plans and service functions, and read who changed what. Provider-wide
configuration, not tenant data; everyone else gets 403."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from engagements.catalog import services
from engagements.catalog.forms import (
    FUNCTION_TEXTS,
    CadenceGridForm,
    EntitlementMatrixForm,
    PlanForm,
    ServiceFunctionForm,
)
from engagements.catalog.models import (
    Cadence,
    Entitlement,
    Frequency,
    Method,
    Plan,
    ServiceFunction,
)
from portal.audit import AuditEntry, changed_fields, trail
from portal.errors import DomainError
from portal.http import AuthenticatedHttpRequest
from portal.pages import admin_required, apply_domain_error

HISTORY_LIMIT = 50


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class HistoryEntry:
    record: AuditEntry
    changes: list[FieldChange]


def _display(field: models.Field, value: object) -> str:
    if value is None or value == "":
        return ""
    with contextlib.suppress(ValidationError):  # the trail keeps plain JSON: "12.50"
        value = field.to_python(value)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(field, models.DecimalField):
        return str(formats.number_format(cast(Decimal, value), field.decimal_places))
    return str(formats.localize(value))


def _history_entries(
    model: type[models.Model], entries: Iterable[AuditEntry], fields: Sequence[str]
) -> list[HistoryEntry]:
    """Newest-first audit entries → each with the fields it changed, before and after.

    A creation lists the values it set as "after"."""
    history = []
    for entry in entries:
        changed = changed_fields(entry)
        before, after = entry.before or {}, entry.after or {}
        changes = []
        for name in fields:
            if name not in changed:
                continue
            field = cast(models.Field, model._meta.get_field(name))
            changes.append(
                FieldChange(
                    label=str(field.verbose_name).capitalize(),
                    before=_display(field, before.get(name)),
                    after=_display(field, after.get(name)),
                )
            )
        history.append(HistoryEntry(entry, changes))
    return history


def _validation_error_to_form(form: Any, error: ValidationError) -> None:
    """A model's full_clean() refusal, shown on the form field it names."""
    for field, field_messages in error.message_dict.items():
        target = field if field in form.fields else None
        for message in field_messages:
            form.add_error(target, message)


@dataclass(frozen=True)
class MatrixHistoryRow:
    record: AuditEntry
    plan: str
    function: str
    change: Literal["+", "-"]


def _names(
    plans: Iterable[Plan], functions: Iterable[ServiceFunction]
) -> tuple[dict[str, str], dict[str, str]]:
    """{plan id (as the audit trail keeps it): name}, {function code: name}."""
    return (
        {str(plan.pk): plan.display_name for plan in plans},
        {function.code: function.display_name for function in functions},
    )


def _matrix_history(plans: list[Plan], functions: list[ServiceFunction]) -> list[MatrixHistoryRow]:
    """The latest added or removed ✓s, newest first, from the plans' audit entries (one query)."""
    plan_names, function_names = _names(plans, functions)
    rows: list[MatrixHistoryRow] = []
    for entry in trail(Plan, actions=("plan.entitlements",))[:HISTORY_LIMIT]:
        before = set((entry.before or {}).get("entitlements", []))
        after = set((entry.after or {}).get("entitlements", []))
        plan = plan_names.get(entry.object_id, f"#{entry.object_id}")
        changes: tuple[tuple[Literal["+", "-"], set[str]], ...] = (
            ("+", after - before),
            ("-", before - after),
        )
        for change, codes in changes:
            rows.extend(
                MatrixHistoryRow(entry, plan, function_names.get(code, code), change)
                for code in sorted(codes)
            )
    return rows[:HISTORY_LIMIT]


@admin_required
@require_http_methods(["GET", "POST"])
def catalog_matrix(request: AuthenticatedHttpRequest) -> HttpResponse:
    plans = list(Plan.objects.all())
    functions = list(ServiceFunction.objects.all())
    entitled = set(Entitlement.objects.values_list("plan_id", "function_id"))
    form = EntitlementMatrixForm(
        request.POST or None, plans=plans, functions=functions, entitled=entitled
    )
    if request.method == "POST" and form.is_valid():
        try:
            added, removed = services.entitlement_matrix_set(
                acting_user=request.user, cells=form.wanted_cells()
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(
                request,
                _("Entitlement matrix saved: %(added)s added, %(removed)s removed.")
                % {"added": added, "removed": removed},
            )
            return redirect("catalog_matrix")
    history = _matrix_history(plans, functions)
    return render(
        request,
        "engagements/catalog/matrix.html",
        {
            "form": form,
            "plans": plans,
            "history": history,
            "history_limit": HISTORY_LIMIT,
            "section": "matrix",
        },
    )


@dataclass(frozen=True)
class CadenceHistoryRow:
    record: AuditEntry
    plan: str
    deliverable: str
    change: Literal["+", "~", "-"]
    methods: list[str]
    frequency: str


def _cadence_history(
    plans: list[Plan], functions: list[ServiceFunction]
) -> list[CadenceHistoryRow]:
    """The latest cadence changes, newest first, from the plans' audit entries (one query)."""
    plan_names, function_names = _names(plans, functions)
    method_labels = dict(Method.choices)
    frequency_labels = dict(Frequency.choices)
    rows = []
    for entry in trail(Plan, actions=("plan.cadence",))[:HISTORY_LIMIT]:
        state = entry.after or entry.before or {}
        change: Literal["+", "~", "-"] = (
            "+" if entry.before is None else "-" if entry.after is None else "~"
        )
        frequency = state.get("frequency") or ""
        rows.append(
            CadenceHistoryRow(
                entry,
                plan_names.get(entry.object_id, f"#{entry.object_id}"),
                function_names.get(state.get("deliverable", ""), state.get("deliverable", "")),
                change,
                [str(method_labels.get(method, method)) for method in state.get("methods") or []],
                str(frequency_labels.get(frequency, frequency)),
            )
        )
    return rows


@admin_required
@require_http_methods(["GET", "POST"])
def catalog_cadences(request: AuthenticatedHttpRequest) -> HttpResponse:
    plans = list(Plan.objects.all())
    functions = list(ServiceFunction.objects.all())
    cadences = {(c.plan_id, c.deliverable_id): c for c in Cadence.objects.all()}
    entitled = set(Entitlement.objects.values_list("plan_id", "function_id"))
    form = CadenceGridForm(
        request.POST or None,
        plans=plans,
        functions=functions,
        cadences=cadences,
        entitled=entitled,
    )
    if request.method == "POST" and form.is_valid():
        changes = form.changes()
        failed = False
        with transaction.atomic():
            for change in changes:
                try:
                    services.cadence_set(
                        acting_user=request.user,
                        plan=change.plan,
                        deliverable=change.function,
                        methods=change.methods,
                        frequency=change.frequency,
                    )
                except DomainError as error:
                    form.add_cell_error(change, error.fields, error.detail)
                    failed = True
            if failed:  # one bad cell saves nothing
                transaction.set_rollback(True)
        if failed:
            form.add_error(None, _("Nothing was saved. Correct the marked cells and save again."))
        else:
            messages.success(
                request,
                ngettext(
                    "Cadences saved: %(count)d cell changed.",
                    "Cadences saved: %(count)d cells changed.",
                    len(changes),
                )
                % {"count": len(changes)},
            )
            return redirect("catalog_cadences")
    history = _cadence_history(plans, functions)
    return render(
        request,
        "engagements/catalog/cadences.html",
        {
            "form": form,
            "plans": plans,
            "history": history,
            "history_limit": HISTORY_LIMIT,
            "section": "cadences",
        },
    )


@admin_required
def catalog_plans(request: HttpRequest) -> HttpResponse:
    plans = Plan.objects.annotate(functions_included=models.Count("entitlements")).order_by(
        "position",
        "id",  # Meta.ordering does not apply to an aggregating query
    )
    return render(
        request, "engagements/catalog/plan_list.html", {"plans": plans, "section": "plans"}
    )


def _plan_form_page(request: AuthenticatedHttpRequest, plan: Plan | None) -> HttpResponse:
    form = PlanForm(request.POST or None, plan=plan)
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        code = fields.pop("code", None)
        try:
            saved = services.plan_save(acting_user=request.user, plan=plan, code=code, **fields)
        except DomainError as error:
            apply_domain_error(form, error)
        except ValidationError as error:
            _validation_error_to_form(form, error)
        else:
            messages.success(request, _("Plan %(name)s saved.") % {"name": saved.display_name})
            return redirect("catalog_plan_edit", pk=saved.pk)
        if plan is not None:
            plan.refresh_from_db()  # the service may have set fields before refusing
    history: list[HistoryEntry] = []
    if plan is not None:
        entries = trail(Plan, object_id=plan.pk, actions=("plan.create", "plan.update"))
        history = _history_entries(Plan, entries[:HISTORY_LIMIT], ("code", *services.PLAN_FIELDS))
    return render(
        request,
        "engagements/catalog/plan_form.html",
        {"form": form, "plan": plan, "history": history, "section": "plans"},
    )


@admin_required
@require_http_methods(["GET", "POST"])
def catalog_plan_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _plan_form_page(request, None)


@admin_required
@require_http_methods(["GET", "POST"])
def catalog_plan_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _plan_form_page(request, get_object_or_404(Plan, pk=pk))


@admin_required
def catalog_functions(request: HttpRequest) -> HttpResponse:
    functions = ServiceFunction.objects.all()
    return render(
        request,
        "engagements/catalog/function_list.html",
        {"functions": functions, "section": "functions"},
    )


def _function_form_page(
    request: AuthenticatedHttpRequest, function: ServiceFunction | None
) -> HttpResponse:
    form = ServiceFunctionForm(request.POST or None, function=function)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.service_function_save(
                acting_user=request.user,
                function=function,
                code=form.cleaned_data.get("code"),
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                name_ko=form.cleaned_data["name_ko"],
                description_ko=form.cleaned_data["description_ko"],
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(
                request, _("Service function %(name)s saved.") % {"name": saved.display_name}
            )
            return redirect("catalog_function_edit", pk=saved.pk)
        if function is not None:
            function.refresh_from_db()
    history: list[HistoryEntry] = []
    if function is not None:
        entries = trail(
            ServiceFunction,
            object_id=function.pk,
            actions=("service_function.create", "service_function.update"),
        )
        history = _history_entries(
            ServiceFunction, entries[:HISTORY_LIMIT], ("code", *FUNCTION_TEXTS)
        )
    return render(
        request,
        "engagements/catalog/function_form.html",
        {"form": form, "function": function, "history": history, "section": "functions"},
    )


@admin_required
@require_http_methods(["GET", "POST"])
def catalog_function_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _function_form_page(request, None)


@admin_required
@require_http_methods(["GET", "POST"])
def catalog_function_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _function_form_page(request, get_object_or_404(ServiceFunction, pk=pk))
