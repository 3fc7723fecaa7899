"""The service catalog (plans, service functions, the entitlement matrix, cadences): writes."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from engagements.catalog.models import (
    Cadence,
    Entitlement,
    Frequency,
    Method,
    Plan,
    ServiceFunction,
)
from engagements.signals import plan_changed
from portal.accounts.models import User
from portal.audit import audit, snapshot
from portal.errors import InvalidInput


def _after_plan_change(plan_id: int) -> None:
    """After the commit, tell the apps that follow plans (the review scheduler reschedules the
    plan's engagements, as after an engagement change)."""
    transaction.on_commit(lambda: plan_changed.send(sender=Plan, plan_id=plan_id))


@transaction.atomic
def entitlement_matrix_set(
    *, acting_user: User, cells: Iterable[tuple[int, int]]
) -> tuple[int, int]:
    """Make the matrix exactly `cells` ((plan id, function id) pairs); returns (added, removed).

    Each plan whose ✓s change gets one audit entry: who, when, its functions before and after.
    """
    wanted = set(cells)
    plans = set(Plan.objects.values_list("id", flat=True))
    functions = set(ServiceFunction.objects.values_list("id", flat=True))
    unknown = [cell for cell in wanted if cell[0] not in plans or cell[1] not in functions]
    if unknown:
        raise InvalidInput(fields={"cells": [_("Unknown plan or function in the matrix.")]})
    # Every row, locked in id order (see portal.locks).
    current = {
        (e.plan_id, e.function_id): e
        for e in Entitlement.objects.select_for_update().order_by("pk")
    }
    codes = dict(ServiceFunction.objects.values_list("id", "code"))
    before = _entitlement_codes(current, codes)
    removed = 0
    for cell, entitlement in current.items():
        if cell not in wanted:
            entitlement.delete()
            removed += 1
    added = 0
    for plan_id, function_id in sorted(wanted - set(current)):
        entitlement = Entitlement(plan_id=plan_id, function_id=function_id)
        entitlement.save()
        added += 1
    after = _entitlement_codes(wanted, codes)
    for plan in Plan.objects.filter(pk__in=plans).order_by("position", "id"):
        if before.get(plan.pk, []) != after.get(plan.pk, []):
            audit(
                actor=acting_user,
                action="plan.entitlements",
                instance=plan,
                before={"entitlements": before.get(plan.pk, [])},
                after={"entitlements": after.get(plan.pk, [])},
            )
            _after_plan_change(plan.pk)
    return added, removed


def _entitlement_codes(
    cells: Iterable[tuple[int, int]], codes: dict[int, str]
) -> dict[int, list[str]]:
    """{plan id: sorted function codes} of a set of matrix cells."""
    by_plan: dict[int, list[str]] = {}
    for plan_id, function_id in cells:
        by_plan.setdefault(plan_id, []).append(codes[function_id])
    return {plan_id: sorted(found) for plan_id, found in by_plan.items()}


@transaction.atomic
def cadence_set(
    *,
    acting_user: User,
    plan: Plan,
    deliverable: ServiceFunction,
    methods: list[str] | None,
    frequency: str | None,
) -> Cadence | None:
    """Set (or with no methods, remove) how the plan delivers a deliverable."""
    existing = (
        Cadence.objects.select_for_update().filter(plan=plan, deliverable=deliverable).first()
    )
    before = _cadence_state(existing)
    if not methods:
        if existing is not None:
            existing.delete()
            _audit_cadence(acting_user, plan, deliverable, before, None)
            _after_plan_change(plan.pk)
        return None
    errors: dict[str, list[str]] = {}
    if any(method not in Method.values for method in methods) or len(set(methods)) != len(methods):
        errors["methods"] = [_("Choose one or more delivery methods.")]
    if frequency not in Frequency.values:
        errors["frequency"] = [_("Choose a frequency.")]
    if errors:
        raise InvalidInput(fields=errors)
    cadence = existing or Cadence(plan=plan, deliverable=deliverable)
    if existing is not None and existing.methods == methods and existing.frequency == frequency:
        return existing
    cadence.methods = list(methods)
    assert frequency is not None  # refused above unless one of Frequency.values
    cadence.frequency = frequency
    cadence.save()
    _audit_cadence(acting_user, plan, deliverable, before, _cadence_state(cadence))
    _after_plan_change(plan.pk)
    return cadence


def _cadence_state(cadence: Cadence | None) -> dict[str, object] | None:
    if cadence is None:
        return None
    return {"methods": list(cadence.methods), "frequency": cadence.frequency}


def _audit_cadence(
    acting_user: User,
    plan: Plan,
    deliverable: ServiceFunction,
    before: dict[str, object] | None,
    after: dict[str, object] | None,
) -> None:
    audit(
        actor=acting_user,
        action="plan.cadence",
        instance=plan,
        before=None if before is None else {"deliverable": deliverable.code, **before},
        after=None if after is None else {"deliverable": deliverable.code, **after},
    )


PLAN_FIELDS = (
    "name",
    "name_ko",
    "deployment",
    "pricing",
    "response_target_business_days",
    "max_contacts",
    "weekly_hours_cap",
    "max_open_cases_per_manager",
    "weekly_call",
)


@transaction.atomic
def plan_save(
    *, acting_user: User, plan: Plan | None = None, code: str | None = None, **fields: object
) -> Plan:
    """Create a plan (with `code`) or change an existing one's settings."""
    unknown = set(fields) - set(PLAN_FIELDS)
    if unknown:
        raise InvalidInput(fields={name: [_("This field cannot be changed.")] for name in unknown})
    if plan is None:
        if not code or Plan.objects.filter(code=code).exists():
            raise InvalidInput(fields={"code": [_("Give a new, unique plan code.")]})
        plan = Plan(code=code, position=Plan.objects.count())
        before = None
    else:
        plan = Plan.objects.select_for_update().get(pk=plan.pk)
        before = snapshot(plan)
    for name, value in fields.items():
        setattr(plan, name, value)
    try:
        plan.full_clean()
    except ValidationError as exc:
        raise InvalidInput(fields=exc.message_dict) from exc
    plan.save()
    after = snapshot(plan)
    if before != after:
        audit(
            actor=acting_user,
            action="plan.create" if before is None else "plan.update",
            instance=plan,
            before=before,
            after=after,
        )
        if before is not None:
            _after_plan_change(plan.pk)
    return plan


@transaction.atomic
def service_function_save(
    *,
    acting_user: User,
    function: ServiceFunction | None = None,
    code: str | None = None,
    name: str,
    description: str = "",
    name_ko: str = "",
    description_ko: str = "",
) -> ServiceFunction:
    """Create a function (with a new `code`) or rename/redescribe one, in English and (optional)
    Korean; codes never change."""
    if function is None:
        if not code or ServiceFunction.objects.filter(code=code).exists():
            raise InvalidInput(fields={"code": [_("Give a new, unique function code.")]})
        function = ServiceFunction(code=code, position=ServiceFunction.objects.count())
    if not name.strip():
        raise InvalidInput(fields={"name": [_("This field may not be blank.")]})
    before = snapshot(function) if function.pk else None
    function.name = name.strip()
    function.description = description
    function.name_ko = name_ko.strip()
    function.description_ko = description_ko
    function.save()
    after = snapshot(function)
    if before != after:
        audit(
            actor=acting_user,
            action="service_function.create" if before is None else "service_function.update",
            instance=function,
            before=before,
            after=after,
        )
    return function
