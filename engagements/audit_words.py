"""How the engagements app's audit actions read (portal.audit_words): plans, the entitlement
matrix, cadences, engagements, contacts, absences, after-hours requests, time, the customer
profile, advocacy and upgrades. Registered from EngagementsConfig.ready()."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext_lazy as _

from portal.audit import AuditEntry
from portal.audit_words import WORK, Names, after_value, before_value
from portal.audit_words import register_action as register

FUNCTION = "engagements.servicefunction"


def _codes(entry: AuditEntry, key: str) -> list[str]:
    values = (after_value if key == "after" else before_value)(entry, "entitlements")
    return [str(code) for code in values] if isinstance(values, list) else []


def _matrix_wants(entry: AuditEntry) -> Iterable[tuple[str, str, Any]]:
    codes = set(_codes(entry, "before")) ^ set(_codes(entry, "after"))
    return [(FUNCTION, "code", sorted(codes))]


def _matrix_extras(entry: AuditEntry, names: Names) -> dict[str, str]:
    """ "Escalation management ✓, Maintenance ✗": the functions the plan gained and lost."""
    before, after = set(_codes(entry, "before")), set(_codes(entry, "after"))
    marks = [(code, "✓") for code in sorted(after - before)]
    marks += [(code, "✗") for code in sorted(before - after)]
    return {
        "cells": ", ".join(
            f"{names.name(FUNCTION, 'code', code) or code} {mark}" for code, mark in marks
        )
    }


def _cadence_wants(entry: AuditEntry) -> Iterable[tuple[str, str, Any]]:
    code = after_value(entry, "deliverable") or before_value(entry, "deliverable")
    return [(FUNCTION, "code", code)]


def _cadence_extras(entry: AuditEntry, names: Names) -> dict[str, str]:
    code = after_value(entry, "deliverable") or before_value(entry, "deliverable")
    return {"deliverable": names.name(FUNCTION, "code", code) or str(code)}


def _user_extras(entry: AuditEntry, names: Names) -> dict[str, str]:
    person = after_value(entry, "user") or before_value(entry, "user")
    return {"person": names.name("accounts.user", "pk", person) or f"#{person}"}


def _contact_wants(entry: AuditEntry) -> Iterable[tuple[str, str, Any]]:
    return [
        ("accounts.user", "pk", after_value(entry, "user") or before_value(entry, "user")),
        (
            "engagements.engagement",
            "pk",
            after_value(entry, "engagement") or before_value(entry, "engagement"),
        ),
    ]


def _contact_extras(entry: AuditEntry, names: Names) -> dict[str, str]:
    engagement = after_value(entry, "engagement") or before_value(entry, "engagement")
    return {
        **_user_extras(entry, names),
        "engagement": names.name("engagements.engagement", "pk", engagement) or f"#{engagement}",
    }


def register_actions() -> None:
    register(
        "plan.entitlements",
        _("%(actor)s changed %(object)s: %(cells)s"),
        wants=_matrix_wants,
        extras=_matrix_extras,
        labels={"entitlements": _("Service functions")},
        hidden=("entitlements",),
    )
    register(
        "plan.cadence",
        _("%(actor)s changed how %(object)s delivers %(deliverable)s"),
        wants=_cadence_wants,
        extras=_cadence_extras,
        labels={
            "deliverable": _("Deliverable"),
            "methods": _("Methods"),
            "frequency": _("Frequency"),
        },
        hidden=("deliverable",),
    )
    register("plan.create", _("%(actor)s created the plan %(object)s"))
    register("plan.update", _("%(actor)s changed the settings of the plan %(object)s"))
    register("service_function.create", _("%(actor)s added the service function %(object)s"))
    register("service_function.update", _("%(actor)s changed the service function %(object)s"))
    register("engagement.create", _("%(actor)s created the engagement %(object)s"))
    register("engagement.update", _("%(actor)s changed the engagement %(object)s"))
    register("engagement.holiday_add", _("%(actor)s added a holiday to the engagement %(object)s"))
    register(
        "engagement.holiday_remove",
        _("%(actor)s removed a holiday from the engagement %(object)s"),
    )
    register(
        "contact.add",
        _("%(actor)s named %(person)s a contact of %(engagement)s"),
        wants=_contact_wants,
        extras=_contact_extras,
        hidden=("engagement", "user"),
    )
    register(
        "contact.remove",
        _("%(actor)s removed %(person)s as a contact of %(engagement)s"),
        wants=_contact_wants,
        extras=_contact_extras,
        hidden=("engagement", "user"),
    )
    register("membership.role", _("%(actor)s changed the role of %(object)s"))
    register("absence.record", _("%(actor)s recorded an absence: %(object)s"), kind=WORK)
    register("absence.delete", _("%(actor)s removed an absence: %(object)s"), kind=WORK)
    register(
        "after_hours.pending", _("%(actor)s requested after-hours support: %(object)s"), kind=WORK
    )
    register(
        "after_hours.approved",
        _("%(actor)s approved after-hours support: %(object)s"),
        kind=WORK,
    )
    register(
        "after_hours.declined",
        _("%(actor)s declined after-hours support: %(object)s"),
        kind=WORK,
    )
    register(
        "after_hours.cancelled",
        _("%(actor)s cancelled after-hours support: %(object)s"),
        kind=WORK,
    )
    register("time_entry.log", _("%(actor)s logged time: %(object)s"), kind=WORK)
    register("time_entry.delete", _("%(actor)s removed a time entry: %(object)s"), kind=WORK)
    register("customer_profile.update", _("%(actor)s changed the %(object)s"), kind=WORK)
    register("advocacy_item.create", _("%(actor)s added the advocacy item %(object)s"), kind=WORK)
    register("advocacy_item.update", _("%(actor)s changed the advocacy item %(object)s"), kind=WORK)
    register("upgrade_plan.create", _("%(actor)s created the upgrade plan %(object)s"), kind=WORK)
    register("upgrade_plan.update", _("%(actor)s changed the upgrade plan %(object)s"), kind=WORK)
    register("upgrade_milestone.create", _("%(actor)s added the milestone %(object)s"), kind=WORK)
    register("upgrade_milestone.update", _("%(actor)s changed the milestone %(object)s"), kind=WORK)
