"""Template helpers of the case pages: the SLA badge and the response clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.casework.models import Case
from engagements.catalog.models import Method

register = template.Library()


@dataclass(frozen=True)
class SlaState:
    """Where an item stands against its response objective."""

    code: str  # on_track | at_risk | breached | responded_on_time | responded_late | closed
    label: str
    css: str

    @property
    def responded(self) -> bool:
        return self.code.startswith("responded")


LABELS = {
    "on_track": (_("On track"), "badge-ok"),
    "at_risk": (_("At risk"), "badge-warn"),
    "breached": (_("Breached"), "badge-alert"),
    "responded_on_time": (_("Responded on time"), "badge-ok"),
    "responded_late": (_("Responded late"), "badge-warn"),
    "closed": (_("Closed without response"), "badge-muted"),
}


def sla_state(case: Case, now: datetime | None = None) -> SlaState:
    """The first response stops the clock; until then 75 % of the window is "at risk" and the
    due time "breached". An item closed unanswered counts as breached only if it was overdue."""
    code = sla_code(case, now or timezone.now())
    label, css = LABELS[code]
    return SlaState(code=code, label=str(label), css=css)


def sla_code(case: Case, now: datetime) -> str:
    """`sla_state`'s code alone (see there); its label and class are `LABELS[code]`."""
    if case.first_response_at is not None:
        code = (
            "responded_on_time"
            if case.first_response_at <= case.response_due_at
            else "responded_late"
        )
    elif not case.is_open:
        ended = case.resolved_at or case.closed_at or now
        code = "breached" if ended > case.response_due_at else "closed"
    elif now >= case.response_due_at:
        code = "breached"
    elif now >= case.reminder_due_at:
        code = "at_risk"
    else:
        code = "on_track"
    return code


@register.inclusion_tag("cases/casework/_sla_badge.html")
def sla_badge(case: Case) -> dict[str, Any]:
    """`{% sla_badge case %}`: the badge, with the due time (viewer's zone) as its title."""
    return {"case": case, "state": sla_state(case)}


@register.filter
def severity_class(severity: int) -> str:
    return {0: "badge-alert", 1: "badge-warn"}.get(severity, "")


@register.filter
def method_label(code: str) -> str:
    """A delivery method code as its (translated) name."""
    return str(Method(code).label) if code in Method.values else code
