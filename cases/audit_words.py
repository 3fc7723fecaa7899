"""How the cases app's audit actions read (portal.audit_words): items (raise, reply, status,
assignment, escalation, priority, RCA, files, ratings), risks and fix requests. Registered from
CasesConfig.ready()."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext_lazy as _

from portal.audit import AuditEntry
from portal.audit_words import SENTENCE, WORK, Names, after_value, value_of
from portal.audit_words import register_action as register


def _assign_wants(entry: AuditEntry) -> Iterable[tuple[str, str, Any]]:
    return [("accounts.user", "pk", after_value(entry, "assignee"))]


def _assign_extras(entry: AuditEntry, names: Names) -> dict[str, str]:
    assignee = after_value(entry, "assignee")
    if assignee is None:
        return {SENTENCE: str(_("%(actor)s put case #%(id)s in the provider queue"))}
    return {"assignee": names.name("accounts.user", "pk", assignee) or f"#{assignee}"}


def _status_extras(entry: AuditEntry, names: Names) -> dict[str, str]:
    return {"status": value_of(entry, "status", names)}


def _priority_extras(entry: AuditEntry, names: Names) -> dict[str, str]:
    return {"priority": value_of(entry, "priority", names)}


def register_actions() -> None:
    register("case.raise", _("%(actor)s raised case #%(id)s"), kind=WORK, hidden=("status",))
    register(
        "case.comment",
        _("%(actor)s replied on case #%(id)s"),
        kind=WORK,
        hidden=("event", "author"),
        labels={"public": _("Visible to the customer"), "delivered_at": _("Delivered")},
    )
    register(
        "case.respond",
        _("%(actor)s responded to case #%(id)s"),
        kind=WORK,
        hidden=("event", "author"),
        labels={"public": _("Visible to the customer"), "delivered_at": _("Delivered")},
    )
    register(
        "case.status",
        _("%(actor)s set case #%(id)s to %(status)s"),
        kind=WORK,
        extras=_status_extras,
    )
    register(
        "case.assign",
        _("%(actor)s assigned case #%(id)s to %(assignee)s"),
        kind=WORK,
        wants=_assign_wants,
        extras=_assign_extras,
    )
    register("case.escalate", _("%(actor)s escalated case #%(id)s"), kind=WORK)
    register(
        "case.priority",
        _("%(actor)s set the priority of case #%(id)s to %(priority)s"),
        kind=WORK,
        extras=_priority_extras,
    )
    register(
        "case.rca",
        _("%(actor)s recorded the root cause analysis of case #%(id)s"),
        kind=WORK,
        hidden=("rca",),
        labels={"delivery_method": _("Delivery method"), "delivered_at": _("Delivered")},
    )
    register(
        "case.attach",
        _("%(actor)s attached a file to case #%(id)s"),
        kind=WORK,
        hidden=("attachment",),
        labels={"name": _("File"), "public": _("Visible to the customer")},
    )
    register("case.rate", _("%(actor)s rated the resolution of case #%(id)s"), kind=WORK)
    register("risk.create", _("%(actor)s added the risk %(object)s"), kind=WORK)
    register("risk.update", _("%(actor)s changed the risk %(object)s"), kind=WORK)
    register("fix_request.create", _("%(actor)s filed the fix request %(object)s"), kind=WORK)
    register(
        "fix_request.rank",
        _("%(actor)s ranked the fix requests"),
        kind=WORK,
        labels={"ranks": _("Ranking")},
    )
    register(
        "fix_request.vendor_status",
        _("%(actor)s changed the vendor status of %(object)s"),
        kind=WORK,
    )
