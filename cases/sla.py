"""The SLA scanner: remind at 75 % of the response window, notify at breach — exactly once.

Items are taken in batches. For each batch, one transaction claims the (item, threshold) rows
of `SlaReminder` with INSERT … ON CONFLICT DO NOTHING RETURNING, and writes notifications and
outbox e-mails only for the rows it claimed. A second scanner running at once waits on the
first one's uncommitted rows and then gets none of them back; a worker killed mid-batch rolls
the whole batch back, and the next scan claims those items again. Nothing leaves the portal
inside the transaction: e-mails go out through the outbox afterwards.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F, Q, TextChoices
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.casework.models import Case, SlaReminder
from cases.mailin.outbound import case_thread
from engagements.absences.models import Absence
from engagements.absences.selectors import absences_at, cover_of
from engagements.business_time import BusinessCalendar, add_business_days
from engagements.contracts.models import Engagement
from engagements.selectors import engagement_calendar
from portal.accounts.models import User
from portal.notifications import notify_claimed, provider_admins
from portal.tenancy.scoping import raw_sql, system_scope, unscoped
from portal.webhooks.events import emit


def response_deadlines(
    engagement: Engagement, received_at: datetime, calendar: BusinessCalendar | None = None
) -> tuple[datetime, datetime]:
    """(75 % reminder time, response due time) by the plan's target on the engagement calendar
    (pass it when already loaded, see `engagement_calendars`)."""
    if calendar is None:
        calendar = engagement_calendar(engagement)
    target = Decimal(engagement.plan.response_target_business_days)
    return (
        add_business_days(calendar, received_at, target * Decimal("0.75")),
        add_business_days(calendar, received_at, target),
    )


class Sla(TextChoices):
    ON_TRACK = "on_track", gettext_lazy("On track")
    AT_RISK = "at_risk", gettext_lazy("At risk")
    BREACHED = "breached", gettext_lazy("Breached")
    RESPONDED = "responded", gettext_lazy("Responded")


def case_sla(case: Case, now: datetime) -> tuple[str, bool | None]:
    """(state, response met) of one item.

    The clock runs until the first response; an item resolved without one keeps the state it
    had when it was resolved. `response met` is known once responded (on time or not) or
    breached (False), and None while the objective can still be met.
    """
    return sla_state(
        first_response_at=case.first_response_at,
        response_due_at=case.response_due_at,
        reminder_due_at=case.reminder_due_at,
        resolved_at=case.resolved_at,
        now=now,
    )


def sla_state(
    *,
    first_response_at: datetime | None,
    response_due_at: datetime,
    reminder_due_at: datetime,
    resolved_at: datetime | None,
    now: datetime,
) -> tuple[str, bool | None]:
    """`case_sla` from the item's times alone (the API reads them as plain rows)."""
    if first_response_at is not None:
        return Sla.RESPONDED, first_response_at <= response_due_at
    clock = resolved_at or now
    if response_due_at <= clock:
        return Sla.BREACHED, False
    if reminder_due_at <= clock:
        return Sla.AT_RISK, None
    return Sla.ON_TRACK, None


def sla_condition(state: str, now: datetime) -> Q:
    """The database condition of `case_sla(...)[0] == state`."""
    if state == Sla.RESPONDED:
        return Q(first_response_at__isnull=False)
    running = Q(resolved_at__isnull=True)
    stopped = Q(resolved_at__isnull=False)
    if state == Sla.BREACHED:
        condition = (running & Q(response_due_at__lte=now)) | (
            stopped & Q(response_due_at__lte=F("resolved_at"))
        )
    elif state == Sla.AT_RISK:
        condition = (running & Q(reminder_due_at__lte=now, response_due_at__gt=now)) | (
            stopped & Q(reminder_due_at__lte=F("resolved_at"), response_due_at__gt=F("resolved_at"))
        )
    else:
        condition = (running & Q(reminder_due_at__gt=now)) | (
            stopped & Q(reminder_due_at__gt=F("resolved_at"))
        )
    return Q(first_response_at__isnull=True) & condition


logger = logging.getLogger(__name__)


BATCH = 200


@dataclass
class ScanResult:
    at_risk: int = 0
    breached: int = 0
    already_sent: int = 0


def _due(
    threshold: str, now: datetime, after: tuple[datetime, int] | None = None
) -> list[tuple[datetime, int]]:
    """(threshold time, id) of unanswered open items past `threshold` with no reminder of that
    kind yet, in that order (indexed); with `after`, only those after it (keyset paging: each
    batch continues where the last ended instead of walking the already-reminded items again)."""
    field = "reminder_due_at" if threshold == SlaReminder.Threshold.AT_RISK else "response_due_at"
    items = unscoped(Case, "the SLA scan reads every tenant's unanswered items").filter(
        first_response_at__isnull=True, status__in=Case.OPEN_STATUSES, **{f"{field}__lte": now}
    )
    if after is not None:
        moment, last_id = after
        items = items.filter(**{f"{field}__gte": moment}).exclude(
            **{field: moment, "id__lte": last_id}
        )
    return list(
        items.exclude(sla_reminders__threshold=threshold)
        .order_by(field, "id")
        .values_list(field, "id")[:BATCH]
    )


def _claim(recipients: dict[int, list[int]], threshold: str, now: datetime) -> set[int]:
    """Insert the (item, threshold) rows; return the items whose row this transaction inserted."""
    table = SlaReminder._meta.db_table
    placeholders = ", ".join(["(%s, %s, %s, %s)"] * len(recipients))
    params: list[Any] = []
    for case_id, people in recipients.items():
        params += [case_id, threshold, now, json.dumps(people)]
    with raw_sql("claim reminders with one INSERT … ON CONFLICT DO NOTHING RETURNING") as cursor:
        cursor.execute(
            f"INSERT INTO {table} (case_id, threshold, sent_at, recipients) "  # noqa: S608
            f"VALUES {placeholders} "
            "ON CONFLICT (case_id, threshold) DO NOTHING RETURNING case_id",
            params,
        )
        return {row[0] for row in cursor.fetchall()}


def _recipients(case: Case, threshold: str, absent: dict[int, Absence], admins: list) -> list:
    """At risk: the manager and the item's holder, each followed, while away, by whoever covers
    for them (SPEC §5). Breached: manager, deputy, holder and admins."""
    engagement = case.engagement
    if threshold == SlaReminder.Threshold.AT_RISK:
        people: list[User | None] = []
        for person in (engagement.manager, case.assignee):
            people += [person, cover_of(engagement, person.pk if person else None, absent)]
    else:
        people = [engagement.manager, engagement.deputy, case.assignee, *admins]
    unique: dict[int, object] = {}
    for person in people:
        if person is not None:
            unique.setdefault(person.pk, person)
    return list(unique.values())


def _renderer(case: Case, threshold: str) -> Callable[[], tuple[str, str]]:
    def render() -> tuple[str, str]:
        if threshold == SlaReminder.Threshold.AT_RISK:
            title = _("At risk: #%(id)s has had no response (due %(due)s)")
        else:
            title = _("Breached: #%(id)s was not answered by %(due)s")
        due = timezone.localtime(case.response_due_at, case.engagement.zone)
        when = f"{date_format(due, 'DATETIME_FORMAT')} {due.tzname()}"
        return title % {"id": case.pk, "due": when}, case.subject

    return render


def _send_batch(case_ids: list[int], threshold: str, now: datetime, admins: list) -> int:
    """Claim and notify one batch in one transaction; returns how many this scanner claimed."""
    with transaction.atomic():
        cases = [
            case
            for case in unscoped(Case, "the SLA scan reminds about items of every tenant")
            .filter(pk__in=case_ids)
            .select_related("engagement__manager", "engagement__deputy", "assignee")
            if case.first_response_at is None and case.is_open
        ]
        absent = absences_at(
            {
                person
                for case in cases
                for person in (
                    case.engagement.manager_id,
                    case.engagement.deputy_id,
                    case.assignee_id,
                )
            },
            now,
        )
        people = {case.pk: _recipients(case, threshold, absent, admins) for case in cases}
        if not people:
            return 0
        claimed = _claim(
            {pk: [p.pk for p in persons] for pk, persons in people.items()}, threshold, now
        )
        notify_claimed(
            [
                (
                    people[case.pk],
                    f"sla:{case.pk}:{threshold}",
                    f"/cases/{case.pk}/",
                    case.engagement,
                    _renderer(case, threshold),
                    case_thread(case.pk),
                )
                for case in cases
                if case.pk in claimed
            ],
            kind=f"sla.{threshold}",
        )
        event = (
            "case.sla_warning"
            if threshold == SlaReminder.Threshold.AT_RISK
            else "case.sla_breached"
        )
        for case in cases:
            if case.pk in claimed:
                emit(event, case)
        return len(claimed)


def scan(now: datetime | None = None) -> ScanResult:
    """One pass over both thresholds. Safe to run twice, or twice at once."""
    now = now or timezone.now()
    result = ScanResult()
    admins = list(provider_admins())
    for threshold in (SlaReminder.Threshold.AT_RISK, SlaReminder.Threshold.BREACHED):
        after = None
        while True:
            due = _due(threshold, now, after)
            if not due:
                break
            batch = [case_id for _moment, case_id in due]
            claimed = _send_batch(batch, threshold, now, admins)
            result.already_sent += len(batch) - claimed
            if threshold == SlaReminder.Threshold.AT_RISK:
                result.at_risk += claimed
            else:
                result.breached += claimed
            if not claimed:
                break  # the rest was claimed by a concurrent scanner
            after = due[-1]
    return result


def breached_open_count() -> int:
    """Open items past their response objective with no first response yet, in every tenant:
    the gauge `portal_sla_breached_open` of /metrics (registered in `CasesConfig.ready`)."""
    with system_scope("metrics: SLA breaches across all engagements"):
        return Case.objects.filter(
            status__in=Case.OPEN_STATUSES,
            first_response_at__isnull=True,
            response_due_at__lte=timezone.now(),
        ).count()
