"""The service manager's weekly board: pages."""

from __future__ import annotations

import functools
import html
from collections import defaultdict
from datetime import datetime
from typing import Any

from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from cases.casework.models import Case
from cases.casework.selectors import DEFAULT_CAP as DEFAULT_CASE_CAP
from cases.casework.selectors import manager_loads
from cases.casework.services import open_case_count
from cases.risks.selectors import high_risks
from engagements.afterhours.models import AfterHoursRequest
from engagements.afterhours.selectors import pending_after_hours
from engagements.contracts.models import Engagement
from engagements.templatetags.engagements import hours as hours_text
from engagements.templatetags.engagements import share_of
from engagements.time.selectors import hours_summaries
from portal.accounts.models import User
from portal.formats import Durations
from portal.http import AuthenticatedHttpRequest
from portal.pages import provider_staff_required
from reviews.board.selectors import (
    BOARD_LIMIT,
    BoardRow,
    board_engagements,
    board_sessions,
    board_weeks,
    case_risks,
)
from reviews.health.scoring import LEVEL_LABELS, Health, Level
from reviews.health.selectors import engagement_health
from reviews.scheduling.models import Occurrence
from reviews.scheduling.selectors import deliverable_labels, labelled, with_state

MISSED_DAYS = 30


class RowText:
    """What the board's rows show, translated and localized once per request.

    The board has some 190 rows (sessions of two weeks per engagement, items at risk and breached,
    missed sessions). Through the template each cell paid for Django's `date` filter (a
    translation look-up per weekday and month name), `{% url %}`, `hours`, `timesince` and
    `{% blocktranslate %}`: about 300,000 Python calls a request (issue 7). Here the names and
    messages are translated once, URLs are filled into a reversed pattern, and dates are
    formatted with the same names and zone as the `date` filter (tests/reviews/test_views.py
    compares the two in both languages)."""

    MARKER = 2147483646  # an id no table reaches; only a placeholder in a reversed URL

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.zone = timezone.get_current_timezone()
        self.days = [str(WEEKDAYS_ABBR[index]) for index in range(7)]
        self.months = ["", *(str(MONTHS_3[index]).title() for index in range(1, 13))]
        self._patterns: dict[str, tuple[str, str]] = {}
        self.durations = Durations()

    def local(self, value: datetime) -> datetime:
        """The `date` filter's conversion: aware values into the current time zone."""
        return value.astimezone(self.zone) if value.tzinfo is not None else value

    def day_time(self, value: datetime | None) -> str:
        """`value|date:"D j M, H:i"`."""
        if value is None:
            return ""
        value = self.local(value)
        return (
            f"{self.days[value.weekday()]} {value.day} {self.months[value.month]}, "
            f"{value.hour:02d}:{value.minute:02d}"
        )

    def weekday_time(self, value: datetime) -> str:
        """`value|date:"D j, H:i"`."""
        value = self.local(value)
        return f"{self.days[value.weekday()]} {value.day}, {value.hour:02d}:{value.minute:02d}"

    def iso(self, value: datetime) -> str:
        """`value|date:"c"`."""
        return self.local(value).isoformat()

    def day_month_year(self, value: datetime) -> str:
        """`value|date:"j M Y"`."""
        value = self.local(value)
        return f"{value.day} {self.months[value.month]} {value.year:04d}"

    def hours(self, minutes: int | None) -> str:
        """The `hours` filter, once per distinct value and language."""
        return _hours_in(translation.get_language(), minutes)

    def url(self, name: str, pk: int) -> str:
        """`{% url name pk %}` for a route with one integer argument, reversed once."""
        if name not in self._patterns:
            marker = str(self.MARKER)
            prefix, suffix = reverse(name, args=[self.MARKER]).split(marker)
            self._patterns[name] = (prefix, suffix)
        prefix, suffix = self._patterns[name]
        return f"{prefix}{pk}{suffix}"

    @staticmethod
    def message(translated: str, **values: Any) -> SafeString:
        """`{% blocktranslate with … %}`: the values escaped, the translated text as written."""
        return mark_safe(  # noqa: S308 (our own translated text; every value is escaped)
            translated % {name: _escaped(value) for name, value in values.items()}
        )


@functools.lru_cache(maxsize=4096)
def _hours_in(language: str | None, minutes: int | None) -> str:
    """`minutes|hours` in `language` (the active one: the filter reads it)."""
    return hours_text(minutes)


# One session in a week's cell of the board: built here, not by a `{% for %}` of eight look-ups,
# because the board repeats it for every session of two weeks of every engagement.
SESSION_ITEM = (
    '<li class="board-session state-{state}" id="occurrence-{id}">'
    '<a href="{url}"><time datetime="{iso}">{weekday_time}</time> {label}</a> '
    '<span class="badge state-badge">{state_label}</span></li>'
)


def _escaped(value: Any) -> str:
    """`conditional_escape` (safe strings as they are) without its checks for lazy arguments."""
    return value.__html__() if hasattr(value, "__html__") else html.escape(str(value))


def fragment(markup: str, values: dict[str, Any]) -> SafeString:
    """`markup` (our own, trusted) filled with `values`, each escaped as `{{ value }}` would be:
    `format_html` without its per-argument overhead."""
    return SafeString(markup.format_map({name: _escaped(value) for name, value in values.items()}))


def _session_cells(occurrences: list[Occurrence], text: RowText) -> list[dict[str, Any]]:
    """What the board shows of each session, as plain dicts of strings (for `fragment`, and
    for the template, whose look-up of `cell.x` succeeds at its first, dict, attempt where a
    model instance costs an exception first)."""
    cells = []
    for occurrence in occurrences:
        start = occurrence.scheduled_start
        cells.append(
            {
                "id": str(occurrence.pk),
                "url": text.url("occurrence_detail", occurrence.pk),
                "iso": text.iso(start),
                "weekday_time": text.weekday_time(start),
                "day_time": text.day_time(start),
                "label": occurrence.label,
                "state": getattr(occurrence, "state", ""),
                "state_label": getattr(occurrence, "state_label", ""),
            }
        )
    return cells


def _listed_sessions(
    occurrences: list[Occurrence],
    by_id: dict[int, Engagement],
    text: RowText,
    *,
    requests: bool = False,
) -> list[dict[str, Any]]:
    """Rows of the missed and requested lists: a session cell with its engagement (from the
    board's list, not a join) and, for `requests`, the note and who asked."""
    rows = _session_cells(occurrences, text)
    for row, occurrence in zip(rows, occurrences, strict=True):
        row["engagement"] = str(by_id[occurrence.engagement_id])
        if requests:
            row["request_note"] = occurrence.request_note
            row["requested_by"] = (
                str(occurrence.requested_by) if occurrence.requested_by_id else "–"
            )
    return rows


def _board_lines(rows: list[BoardRow], text: RowText) -> list[dict[str, Any]]:
    """The calls-and-reviews table: one line per engagement, every cell formatted."""
    of = _("%(spent)s of %(cap)s")
    share = _("%(share)s %% of the cap")
    flagged = _("Flagged %(when)s")
    lines = []
    for row in rows:
        engagement, hours, pk = row.engagement, row.hours, row.engagement.pk
        cap = text.hours(hours.cap_minutes)
        flagged_at = row.overage_raised_at
        lines.append(
            {
                "id": str(pk),
                "url": text.url("engagement_detail", pk),
                "name": str(engagement),
                "organization": engagement.organization.name,
                "plan": engagement.plan.display_name,
                "role": row.role,
                "weeks": [
                    SafeString("".join(fragment(SESSION_ITEM, cell) for cell in cells))
                    for cells in (_session_cells(sessions, text) for sessions in row.weeks)
                ],
                "this_week": text.message(of, spent=text.hours(hours.this_week_minutes), cap=cap),
                "this_week_minutes": str(hours.this_week_minutes),
                "cap_minutes": str(hours.cap_minutes),
                "share": text.message(
                    share, share=share_of(hours.this_week_minutes, hours.cap_minutes)
                ),
                "average": text.message(
                    of, spent=text.hours(hours.trailing_average_minutes), cap=cap
                ),
                "over_cap": hours.over_cap,
                "flagged": (
                    text.message(flagged, when=text.day_month_year(flagged_at))
                    if flagged_at
                    else ""
                ),
                "time_url": text.url("time_entries", pk),
            }
        )
    return lines


# One engagement's line of the calls-and-reviews table (board.html renders `line.html`): built
# here rather than by some twenty template nodes per engagement.
BOARD_LINE = (
    '<tr id="engagement-{id}">\n'
    '        <th scope="row"><a href="{url}">{name}</a>\n'
    '          <br><small class="muted">{organization} · {plan}</small>{role}</th>\n'
    "{weeks}"
    '        <td class="board-hours">{this_week}\n'
    '          <progress value="{this_week_minutes}" max="{cap_minutes}" aria-label="{share}">'
    "</progress></td>\n"
    '        <td class="board-hours">{average}{over_cap}{flagged}\n'
    '          <br><a href="{time_url}"><small>{log_time}</small></a></td>\n'
    '        <td class="board-health">{health}</td>\n'
    "      </tr>"
)
WEEK_CELL = '        <td>\n          <ul class="board-sessions">{sessions}</ul>\n        </td>\n'


class LineHtml:
    """`BOARD_LINE` for each line, its fixed words translated once per request."""

    def __init__(self) -> None:
        self.roles = {
            "manager": fragment(
                '\n          <br><span class="badge badge-manager">{label}</span>',
                {"label": _("Manager")},
            ),
            "deputy": fragment(
                '\n          <br><span class="badge">{label}</span>', {"label": _("Deputy")}
            ),
        }
        self.nothing = fragment('<li class="muted">{label}</li>', {"label": _("Nothing scheduled")})
        self.over_cap = fragment(
            '\n          <br><span class="badge badge-alert">{label}</span>',
            {"label": _("Over the cap")},
        )
        self.flagged_label = _("Additional contract recommended")
        self.log_time = _("Log time")

    def html(self, line: dict[str, Any]) -> SafeString:
        weeks = "".join(
            fragment(WEEK_CELL, {"sessions": sessions or self.nothing})
            for sessions in line["weeks"]
        )
        flagged = (
            fragment(
                '\n          <br><span class="badge badge-warn" title="{title}">{label}</span>',
                {"title": line["flagged"], "label": self.flagged_label},
            )
            if line["flagged"]
            else ""
        )
        return fragment(
            BOARD_LINE,
            {
                "id": line["id"],
                "url": line["url"],
                "name": line["name"],
                "organization": line["organization"],
                "plan": line["plan"],
                "role": self.roles.get(line["role"], SafeString("")),
                "weeks": SafeString(weeks),
                "this_week": line["this_week"],
                "this_week_minutes": line["this_week_minutes"],
                "cap_minutes": line["cap_minutes"],
                "share": line["share"],
                "average": line["average"],
                "over_cap": self.over_cap if line["over_cap"] else SafeString(""),
                "flagged": SafeString(flagged),
                "time_url": line["time_url"],
                "log_time": self.log_time,
                "health": line["health_badge"],
            },
        )


class HealthBadge:
    """`reviews/health/_badge.html` for every line of the board, its texts translated once
    (the include cost a template render and two `{% blocktranslate %}` per engagement)."""

    CSS = {Level.HEALTHY: "badge-ok", Level.WATCH: "badge-warn"}
    BADGE = (
        '<a href="{url}" class="health-link"><span class="badge {css}">{level} · {score}</span></a>'
    )
    REASON = '\n<br><small class="health-reason">{reason}</small>'

    def __init__(self, text: RowText) -> None:
        self.text = text
        self.score = _("%(score)s of 100")
        self.reason = _("−%(points)s · %(label)s: %(figure)s")
        self.levels = {level: str(label) for level, label in LEVEL_LABELS.items()}

    def html(self, engagement_id: int, health: Health) -> SafeString:
        badge = fragment(
            self.BADGE,
            {
                "url": self.text.url("engagement_health", engagement_id),
                "css": self.CSS.get(health.level, "badge-alert"),
                "level": self.levels[health.level],
                "score": self.text.message(self.score, score=health.score),
            },
        )
        reasons = "".join(
            fragment(
                self.REASON,
                {
                    "reason": self.text.message(
                        self.reason, points=factor.points, label=factor.label, figure=factor.figure
                    )
                },
            )
            for factor in health.reasons[:2]
        )
        return SafeString(badge + reasons)


# One item at risk or breached (reviews/_board_cases.html lists up to BOARD_LIMIT of each).
CASE_ROW = (
    '<tr id="case-{id}"><td><a href="{url}">#{id} {subject}</a><br>'
    '<small class="muted">{kind} · {received}</small></td>'
    "<td>{engagement}</td><td>{severity}</td>"
    '<td>{due}<br><span class="badge {badge}">{due_badge}</span></td>'
    "<td>{assignee}</td></tr>"
)


def _case_lines(cases: list[Case], text: RowText, *, breached: bool) -> list[SafeString]:
    """Items at risk or breached as table rows, every cell formatted (see `RowText`)."""
    received = _("received %(when)s")
    due = _("overdue by %(late)s") if breached else _("%(left)s left")
    queue = fragment(
        '<span class="badge badge-warn">{label}</span>', {"label": _("Provider queue")}
    )
    lines = []
    for case in cases:
        due_at = case.response_due_at
        lines.append(
            fragment(
                CASE_ROW,
                {
                    "id": case.pk,
                    "url": text.url("case_detail", case.pk),
                    "subject": case.subject,
                    "kind": case.kind_label,
                    "received": text.message(received, when=text.day_time(case.received_at)),
                    "engagement": case.engagement,
                    "severity": case.severity_label,
                    "due": text.day_time(due_at),
                    "badge": "badge-alert" if breached else "badge-warn",
                    "due_badge": (
                        text.message(due, late=text.durations.since(due_at, text.now))
                        if breached
                        else text.message(due, left=text.durations.until(due_at, text.now))
                    ),
                    "assignee": str(case.assignee) if case.assignee_id else queue,
                },
            )
        )
    return lines


def _engagement_options(engagements: list[Engagement], chosen: str) -> SafeString:
    """The board's engagement filter: an option per engagement, the chosen one selected."""
    return SafeString(
        "".join(
            fragment(
                '<option value="{id}"{selected}>{name}</option>',
                {
                    "id": engagement.pk,
                    "selected": SafeString(" selected" if str(engagement.pk) == chosen else ""),
                    "name": engagement,
                },
            )
            for engagement in engagements
        )
    )


@provider_staff_required
@require_GET
def weekly_board(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The service manager's landing page: this and next week's calls and reviews per engagement,
    what was missed, items at risk of breaching the response objective, their open items against
    the cap, hours against the weekly cap, and requests to act on. Admins see every engagement
    (or one) and every manager's load."""
    user: User = request.user
    now = timezone.now()
    engagements = board_engagements(user)
    chosen = request.GET.get("engagement", "")
    shown = [engagement for engagement in engagements if str(engagement.pk) == chosen]
    if not shown:
        chosen = ""
        shown = engagements
    ids = [engagement.pk for engagement in shown]
    weeks = board_weeks(now)
    labels = deliverable_labels()
    text = RowText(now)

    lists = board_sessions(ids, weeks, now, MISSED_DAYS)
    sessions = with_state(labelled(lists.weeks, labels), now)
    per_week: dict[tuple[int, int], list[Occurrence]] = defaultdict(list)
    for occurrence in sessions:
        index = next(i for i, week in enumerate(weeks) if occurrence.scheduled_start < week.end)
        per_week[(occurrence.engagement_id, index)].append(occurrence)
    summaries = hours_summaries(shown)
    rows = [
        BoardRow(
            engagement=engagement,
            weeks=[per_week[(engagement.pk, index)] for index in range(len(weeks))],
            hours=summaries[engagement.pk],
            role=(
                "manager"
                if engagement.manager_id == user.pk
                else "deputy"
                if engagement.deputy_id == user.pk
                else ""
            ),
        )
        for engagement in shown
    ]

    # Missed in the last 30 days, and earlier weeks' sessions still not completed.
    by_id = {engagement.pk: engagement for engagement in shown}
    missed = with_state(labelled(lists.missed, labels), now)
    requested = labelled(lists.requested, labels)
    risks = case_risks(shown, now)
    health = engagement_health(shown, now, hours=summaries)  # the hours read above
    lines = _board_lines(rows, text)
    badge = HealthBadge(text)
    line_html = LineHtml()
    for line, row in zip(lines, rows, strict=True):
        line["health"] = health[row.engagement.pk]
        line["health_badge"] = badge.html(row.engagement.pk, line["health"])
        line["html"] = line_html.html(line)
    context: dict[str, Any] = {
        "engagement_options": _engagement_options(engagements, chosen),
        "rows": rows,
        "lines": lines,
        "weeks": weeks,
        "engagements": engagements,
        "chosen": chosen,
        "missed": _listed_sessions(missed, by_id, text),
        "missed_days": MISSED_DAYS,
        "attention_count": len(missed)
        + sum(1 for occurrence in sessions if occurrence.state == "overdue"),
        "risks": risks,
        "at_risk": _case_lines(risks.at_risk, text, breached=False),
        "breached": _case_lines(risks.breached, text, breached=True),
        "high_risks": list(high_risks(ids)[:BOARD_LIMIT]),
        "requested": _listed_sessions(requested, by_id, text, requests=True),
        "after_hours": pending_after_hours(
            AfterHoursRequest.objects.filter(engagement_id__in=ids), engagements=by_id
        ),
        "over_cap": [row for row in rows if row.hours.over_cap or row.overage_raised_at],
        "board_limit": BOARD_LIMIT,
    }
    if user.is_provider_admin:
        context["managers"], context["cap"] = manager_loads()
    else:
        context["load"] = open_case_count(user)
        caps = [engagement.plan.max_open_cases_per_manager for engagement in engagements]
        context["cap"] = min(caps) if caps else DEFAULT_CASE_CAP
    # A TemplateResponse: the board's live fragment (portal.live) renders one block of it.
    return TemplateResponse(request, "reviews/board/board.html", context)
