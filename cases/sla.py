"""The SLA scanner: remind at 75 % of the response window, notify at breach — exactly once.

For each unanswered open item past a threshold, one transaction claims the (item, threshold)
row of `SlaReminder` (unique) and writes the notifications and outbox e-mails. A second
scanner running at once blocks on the same row and then finds it taken; a worker killed
mid-item rolls its transaction back, and the next scan claims the item again. Nothing is sent
outside that transaction (e-mails leave through the outbox afterwards).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import Case, SlaReminder
from engagements.selectors import absence_at
from portal.notifications import notify, provider_admins

logger = logging.getLogger(__name__)
BATCH = 500


@dataclass
class ScanResult:
    at_risk: int = 0
    breached: int = 0
    already_sent: int = 0


def _due(threshold: str, now: datetime):
    """Unanswered open items past `threshold` with no reminder of that kind yet (indexed)."""
    field = "reminder_due_at" if threshold == SlaReminder.Threshold.AT_RISK else "response_due_at"
    return (
        Case._base_manager.filter(
            first_response_at__isnull=True, status__in=Case.OPEN_STATUSES, **{f"{field}__lte": now}
        )
        .exclude(sla_reminders__threshold=threshold)
        .order_by(field, "id")
        .values_list("id", flat=True)
    )


def _recipients(case: Case, threshold: str, at: datetime) -> list:
    engagement = case.engagement
    manager, deputy = engagement.manager, engagement.deputy
    manager_absent = absence_at(manager, at) is not None
    if threshold == SlaReminder.Threshold.AT_RISK:
        people = [manager]
        if manager_absent and deputy is not None:
            people.append(deputy)
        if case.assignee is not None and case.assignee not in people:
            people.append(case.assignee)
        return people
    return [manager, deputy, case.assignee, *provider_admins()]


def _send(case_id: int, threshold: str, now: datetime) -> bool:
    """Claim and send one reminder in one transaction; False when it was already claimed."""
    try:
        with transaction.atomic():
            reminder = SlaReminder.objects.create(case_id=case_id, threshold=threshold, sent_at=now)
            case = Case._base_manager.select_related(
                "engagement__manager", "engagement__deputy", "assignee"
            ).get(pk=case_id)
            if case.first_response_at is not None or not case.is_open:
                # Answered since the query ran: keep the claim (nothing to send later either).
                return True
            people = [user for user in _recipients(case, threshold, now) if user is not None]
            due = case.response_due_at

            def render() -> tuple[str, str]:
                if threshold == SlaReminder.Threshold.AT_RISK:
                    title = _("At risk: #%(id)s has had no response (due %(due)s)")
                else:
                    title = _("Breached: #%(id)s was not answered by %(due)s")
                when = timezone.localtime(due, case.engagement.zone).strftime("%Y-%m-%d %H:%M %Z")
                return title % {"id": case.pk, "due": when}, case.subject

            sent = notify(
                users=people,
                kind=f"sla.{threshold}",
                key=f"sla:{case_id}:{threshold}",
                url=f"/cases/{case_id}/",
                engagement=case.engagement,
                render=render,
            )
            reminder.recipients = [n.user_id for n in sent]
            reminder.save(update_fields=["recipients"])
        return True
    except IntegrityError:
        return False


def scan(now: datetime | None = None) -> ScanResult:
    """One pass over both thresholds. Safe to run twice, or twice at once."""
    now = now or timezone.now()
    result = ScanResult()
    for threshold in (SlaReminder.Threshold.AT_RISK, SlaReminder.Threshold.BREACHED):
        while True:
            batch = list(_due(threshold, now)[:BATCH])
            if not batch:
                break
            progressed = False
            for case_id in batch:
                if _send(case_id, threshold, now):
                    progressed = True
                    if threshold == SlaReminder.Threshold.AT_RISK:
                        result.at_risk += 1
                    else:
                        result.breached += 1
                else:
                    result.already_sent += 1
            if not progressed:
                break  # everything left was claimed by a concurrent scanner
    return result
