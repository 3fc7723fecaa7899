"""Template helpers of the case pages: the SLA badge and the response clock."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from html import escape as _esc  # Django's `escape` without its lazy-text wrapper, on str
from typing import TYPE_CHECKING, Any

from django import template
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from cases.casework.models import Case
from engagements.catalog.models import Method

if TYPE_CHECKING:  # the rows come from cases.casework.selectors, which imports this module
    from cases.casework.selectors import CaseRow

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


def _sla_badge_html(row: CaseRow) -> str:
    """A row's SLA badge, as `_sla_badge.html` writes it (the title's values escaped where
    `CaseRowText` made it)."""
    return (
        f'<span class="badge sla-badge sla-{_esc(row.sla_code)} {_esc(row.sla_css)}" '
        f'title="{row.sla_title}">{_esc(row.sla_label)}</span>'
    )


@register.simple_tag
def case_list_rows(rows: Iterable[CaseRow], staff: bool, bulk: bool) -> SafeString:
    """The case list's table rows (`{% case_list_rows page staff bulk_form %}`), as the loop
    they replace rendered them, each cell a `CaseRow` value escaped once: fifty rows of some
    fifteen template look-ups each were the larger part of the page's time (issue 17). The SLA
    title is a SafeString (its values escaped where it is made)."""
    out = []
    escalated = _esc(str(_("Escalated")))
    queue = _esc(str(_("Provider queue")))
    for row in rows:
        pk = row.pk
        pick = (
            f'<td><input type="checkbox" name="ids" value="{pk}" form="bulk-form" '
            f'id="pick-{pk}" aria-label="{_esc(row.select_label)}"></td>'
            if bulk
            else ""
        )
        badge = f' <span class="badge badge-alert">{escalated}</span>' if row.escalated else ""
        priority = f' <span class="badge">{_esc(row.priority_label)}</span>' if row.priority else ""
        organization = f'<br><small class="muted">{_esc(row.organization)}</small>' if staff else ""
        assignee = ""
        if staff:
            assignee = (
                f"<td>{_esc(row.assignee)}</td>"
                if row.assignee
                else f'<td><span class="badge badge-warn">{queue}</span></td>'
            )
        out.append(
            f'\n      <tr id="case-{pk}">\n        {pick}\n'
            f'        <td><a href="{_esc(row.url)}">#{pk} {_esc(row.subject)}</a>\n'
            f'          <br><small class="muted">{_esc(row.kind)}</small>\n'
            f"          {badge}\n          {priority}</td>\n"
            f"        <td>{_esc(row.engagement)}{organization}</td>\n"
            f'        <td><span class="badge {_esc(row.severity_css)}">'
            f"{_esc(row.severity)}</span></td>\n"
            f"        <td>{_esc(row.status)}</td>\n"
            f"        <td>{_sla_badge_html(row)}</td>\n"
            f"        <td>{_esc(row.received)}</td>\n"
            f"        <td>{_esc(row.due)}</td>\n"
            f"        {assignee}\n      </tr>\n    "
        )
    if not out:
        out.append(f'\n      <tr><td colspan="9">{_esc(str(_("No items match.")))}</td></tr>\n    ')
    return mark_safe("\n    " + "".join(out))  # noqa: S308 (every value escaped above)


@register.simple_tag
def queue_rows(section: Any, now: datetime) -> SafeString:
    """A section of the staff queue as table rows (`{% queue_rows section now %}`), as the loop
    they replace rendered them: up to fifty rows a section, each cell formatted once by
    `CaseRowText` instead of some ten template look-ups, filters and an inclusion tag (the
    queue took three times the board's time, issue 17). `now` is the page's."""
    from cases.casework.selectors import CaseRowText  # it imports this module

    text = CaseRowText(now)
    key = _esc(section.key)
    unassigned = _esc(str(_("Unassigned")))
    out = []
    for case in section.cases:
        row = text.row(case, age=True)
        holder = ""
        if section.key != "mine":
            holder = (
                f'\n          <br><small class="muted">'
                f"{_esc(row.assignee) if row.assignee else unassigned}</small>"
            )
        out.append(
            f'\n      <tr id="queue-{key}-{row.pk}">\n'
            f"        <td>{_sla_badge_html(row)}</td>\n"
            f'        <td><a href="{_esc(row.url)}">#{row.pk} {_esc(row.subject)}</a>'
            f"{holder}</td>\n"
            f"        <td>{_esc(row.engagement)}<br>"
            f'<small class="muted">{_esc(row.organization)}</small></td>\n'
            f'        <td><span class="badge {_esc(row.severity_css)}">'
            f"{_esc(row.severity)}</span></td>\n"
            f"        <td>{_esc(row.age)}</td>\n"
            f"        <td>{_esc(row.due)}</td>\n"
            "      </tr>\n    "
        )
    if not out:
        out.append(f'\n      <tr><td colspan="6">{_esc(str(_("Nothing here.")))}</td></tr>\n    ')
    return mark_safe("\n    " + "".join(out))  # noqa: S308 (every value escaped above)
