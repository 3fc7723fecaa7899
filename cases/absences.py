"""What happened while a manager was away: one summary when the absence ends.

While someone is absent, whoever covers gets their items' news (`engagements.absences.selectors.
with_cover`). When the absence is over, the SLA scan's task tells the person back, in one
notification, which items of the engagements they serve had activity meanwhile. Each absence is
summarized exactly once: the run that sets `Absence.summarized_at` (a conditional UPDATE, so two
runs at once cannot both win) is the one that notifies, in the same transaction, under a
notification key unique to the absence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cases.casework.models import Case, CaseEvent
from engagements.absences.models import Absence
from portal.notifications import notify
from portal.tenancy.scoping import unscoped

BATCH = 100

LISTED = 50  # items named in one summary; the rest are counted


@dataclass(frozen=True)
class Activity:
    case: Case
    entries: int
    last_at: datetime


def activity_during(absence: Absence) -> list[Activity]:
    """Items of the engagements the absent person serves (as manager or deputy) that had
    timeline entries by anyone else while they were away, most recent first."""
    person = absence.manager_id
    rows = (
        unscoped(CaseEvent, "a provider person's summary covers every engagement they serve")
        .filter(created_at__gte=absence.starts_at, created_at__lt=absence.ends_at)
        .filter(Q(case__engagement__manager_id=person) | Q(case__engagement__deputy_id=person))
        .exclude(actor_id=person)
        .values("case_id")
        .annotate(entries=Count("id"), last_at=Max("created_at"))
        .order_by("-last_at", "-case_id")
    )
    counted = {row["case_id"]: row for row in rows}
    cases = unscoped(Case, "the items of the summary above").in_bulk(list(counted))
    return [
        Activity(case=cases[pk], entries=row["entries"], last_at=row["last_at"])
        for pk, row in counted.items()
        if pk in cases
    ]


def _render(absence: Absence, activity: list[Activity]) -> tuple[str, str]:
    zone = ZoneInfo(absence.manager.time_zone or "UTC")
    title = ngettext(
        "While you were away: activity on %(count)d item",
        "While you were away: activity on %(count)d items",
        len(activity),
    ) % {"count": len(activity)}
    lines = [
        _("%(start)s to %(end)s (%(zone)s). Whoever covered for you received these items' news:")
        % {
            "start": date_format(timezone.localtime(absence.starts_at, zone), "DATETIME_FORMAT"),
            "end": date_format(timezone.localtime(absence.ends_at, zone), "DATETIME_FORMAT"),
            "zone": zone.key,
        },
        "",
    ]
    for row in activity[:LISTED]:
        lines.append(
            ngettext(
                "#%(id)s %(subject)s (%(status)s): %(count)d new entry",
                "#%(id)s %(subject)s (%(status)s): %(count)d new entries",
                row.entries,
            )
            % {
                "id": row.case.pk,
                "subject": row.case.subject,
                "status": row.case.get_status_display().lower(),
                "count": row.entries,
            }
        )
        lines.append(f"  {settings.SITE_URL}/cases/{row.case.pk}/")
    if len(activity) > LISTED:
        lines.append(
            _("… and %(count)d more (see your cases).") % {"count": len(activity) - LISTED}
        )
    return title, "\n".join(lines)


def _summarize(absence_id: int, now: datetime) -> bool:
    """Claim one ended absence and tell its person what happened; False when another run had
    claimed it or nothing happened."""
    with transaction.atomic():
        claimed = Absence.objects.filter(pk=absence_id, summarized_at__isnull=True).update(
            summarized_at=now
        )
        if not claimed:
            return False
        absence = Absence.objects.select_related("manager").get(pk=absence_id)
        activity = activity_during(absence)
        if not activity:
            return False
        return bool(
            notify(
                users=[absence.manager],
                kind="absence.summary",
                key=f"absence:{absence.pk}:summary",
                url="/cases/",
                render=lambda: _render(absence, activity),
            )
        )


def send_absence_summaries(now: datetime | None = None) -> int:
    """Summarize every absence that has ended and was not summarized yet; returns how many
    summaries were sent. Safe to run twice, or twice at once."""
    now = now or timezone.now()
    sent = 0
    while True:
        due = list(
            Absence.objects.filter(summarized_at__isnull=True, ends_at__lte=now)
            .order_by("ends_at", "id")
            .values_list("id", flat=True)[:BATCH]
        )
        if not due:
            return sent
        sent += sum(_summarize(absence_id, now) for absence_id in due)
