"""Session pages: the manager's weekly board, the list of sessions, one session with its minutes
and action items, completing and cancelling it, and requesting an "as needed" session.

Every occurrence and action item is fetched through the request's tenant scope, so another
tenant's answers 404 exactly like a missing one, before any role check answers 403. Every
change goes through `reviews.services`; a refusal of the rules shows on the form or as a message,
a refusal of rights as the 403 page. Each page issues a constant number of queries.
"""

from __future__ import annotations

import functools
import html
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

import django_filters
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Min, Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases.models import Case
from cases.selectors import high_risks
from cases.services import open_case_count, open_items_of_assignee
from engagements.models import (
    AfterHoursRequest,
    Contact,
    Engagement,
    Frequency,
    Method,
    OverageFlag,
)
from engagements.models import Plan as PlanModel
from engagements.selectors import HoursSummary, is_active_contact, week_start
from engagements.templatetags.engagements import hours as hours_text
from engagements.templatetags.engagements import share_of
from engagements.views import hours_summaries, pending_after_hours
from portal.accounts.models import User
from portal.errors import DomainError, NotEntitled
from portal.http import AuthenticatedHttpRequest
from portal.pages import apply_domain_error, error_text, provider_staff_required, refused
from reviews import services
from reviews.filters import OccurrenceFilter
from reviews.forms import (
    ActionItemFormSet,
    CancelForm,
    CompleteForm,
    RequestForm,
    requestable_deliverables,
)
from reviews.models import WEEKLY_CALL, ActionItem, Occurrence

BOARD_WEEKS = 2
MISSED_DAYS = 30
BOARD_LIMIT = 50  # rows per board section; the rest are a click away
UPCOMING_DAYS = 90
UPCOMING_LIMIT = 100
PAGE_SIZE = 50
DEFAULT_CASE_CAP = PlanModel._meta.get_field("max_open_cases_per_manager").default

# --- Access and labels ----------------------------------------------------------------------------


def _occurrences() -> QuerySet[Occurrence]:
    return Occurrence.objects.select_related("engagement__organization", "engagement__plan")


def _occurrence_or_404(pk: int) -> Occurrence:
    """Through the request's scope: not yours and missing look alike."""
    return get_object_or_404(
        _occurrences().select_related(
            "engagement__manager", "engagement__deputy", "requested_by", "completed_by"
        ),
        pk=pk,
    )


def deliverable_labels() -> dict[str, str]:
    """Deliverable code → name for every service function and the weekly call, in one query."""
    from engagements.models import ServiceFunction

    labels = dict(ServiceFunction.objects.values_list("code", "name"))
    labels[WEEKLY_CALL] = _("Weekly call")
    return labels


def _labelled(occurrences: list[Occurrence], labels: dict[str, str]) -> list[Occurrence]:
    """Name what each occurrence delivers and how, without a query per row."""
    methods = {value: str(label) for value, label in Method.choices}  # translated once
    for occurrence in occurrences:
        occurrence.label = labels.get(occurrence.deliverable, occurrence.deliverable)
        occurrence.method_label = methods.get(occurrence.method, occurrence.method)
    return occurrences


def occurrence_state(occurrence: Occurrence, now: datetime) -> str:
    """due, overdue (start passed, not completed), completed, missed or cancelled."""
    if occurrence.status == Occurrence.Status.SCHEDULED:
        return "overdue" if occurrence.scheduled_start <= now else "due"
    return occurrence.status


STATE_LABELS = {
    "due": gettext_lazy("Due"),
    "overdue": gettext_lazy("Overdue"),
    "completed": gettext_lazy("Completed"),
    "missed": gettext_lazy("Missed"),
    "cancelled": gettext_lazy("Cancelled"),
}


def _with_state(occurrences: list[Occurrence], now: datetime) -> list[Occurrence]:
    labels = {state: str(label) for state, label in STATE_LABELS.items()}  # translated once
    for occurrence in occurrences:
        occurrence.state = occurrence_state(occurrence, now)
        occurrence.state_label = labels[occurrence.state]
    return occurrences


def is_requested(occurrence: Occurrence) -> bool:
    return occurrence.period.startswith(f"{Frequency.AS_NEEDED}:")


# --- The weekly board -----------------------------------------------------------------------------


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


# The columns a board row of a session shows (not its minutes, notes or attendees).
BOARD_SESSION_FIELDS = (
    "id",
    "engagement_id",
    "deliverable",
    "period",
    "scheduled_start",
    "method",
    "status",
)


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
        flag = row.overage_flag
        lines.append(
            {
                "id": str(pk),
                "url": text.url("engagement_detail", pk),
                "name": str(engagement),
                "organization": engagement.organization.name,
                "plan": engagement.plan.name,
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
                    text.message(flagged, when=text.day_month_year(flag.raised_at)) if flag else ""
                ),
                "time_url": text.url("time_entries", pk),
            }
        )
    return lines


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
                        text.message(due, late=timesince(due_at, text.now))
                        if breached
                        else text.message(due, left=timeuntil(due_at, text.now))
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


@dataclass
class BoardRow:
    """One engagement on the board: its sessions of this and next week, and its hours."""

    engagement: Engagement
    weeks: list[list[Occurrence]]
    hours: HoursSummary
    role: str = ""  # "manager" | "deputy" | "" (an admin looking on)

    @property
    def overage_flag(self) -> OverageFlag | None:
        flags = getattr(self.engagement, "open_overage_flags", [])
        return flags[0] if flags else None


@dataclass
class Week:
    monday: date
    start: datetime
    end: datetime
    current: bool

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)


@dataclass
class CaseRisks:
    at_risk: list[Case] = field(default_factory=list)
    breached: list[Case] = field(default_factory=list)


def board_weeks(now: datetime, count: int = BOARD_WEEKS) -> list[Week]:
    """This week and the next, Monday to Sunday in the viewer's zone."""
    zone = timezone.get_current_timezone()
    monday = week_start(timezone.localdate(now))
    weeks = []
    for index in range(count):
        first = monday + timedelta(weeks=index)
        weeks.append(
            Week(
                monday=first,
                start=datetime.combine(first, time(), tzinfo=zone),
                end=datetime.combine(first + timedelta(days=7), time(), tzinfo=zone),
                current=index == 0,
            )
        )
    return weeks


def board_engagements(user: User) -> list[Engagement]:
    """Current engagements the viewer serves (admins: all), with their open overage flag."""
    queryset = Engagement.objects.all()
    if not user.is_provider_admin:
        queryset = queryset.filter(Q(manager=user) | Q(deputy=user))
    yesterday = timezone.localdate() - timedelta(days=1)
    return list(
        queryset.filter(end_date__gte=yesterday)
        .select_related("organization", "plan")  # the board names no manager or deputy
        .prefetch_related(
            Prefetch(
                "overage_flags",
                queryset=OverageFlag.objects.filter(cleared_at__isnull=True),
                to_attr="open_overage_flags",
            )
        )
    )


def case_risks(engagements: list[Engagement], now: datetime, limit: int = BOARD_LIMIT) -> CaseRisks:
    """Open, unanswered items past their 75 % reminder: at risk until due, then breached.

    One query per section, so breached items (which sort first) cannot crowd the at-risk ones
    out of a shared limit. Each item gets its engagement from `engagements` (already loaded)
    rather than a join."""
    by_id = {engagement.pk: engagement for engagement in engagements}
    unanswered = (
        Case.objects.filter(
            engagement_id__in=list(by_id),
            status__in=Case.OPEN_STATUSES,
            first_response_at__isnull=True,
            reminder_due_at__lte=now,
        )
        .select_related("assignee")
        # What the rows show: no description, no other timestamps or people (issue 7).
        .only(
            "id",
            "engagement_id",
            "kind",
            "severity",
            "subject",
            "received_at",
            "response_due_at",
            "assignee__name",
            "assignee__email",
        )
        .order_by("response_due_at", "id")
    )
    # Labels translated once, not per row (get_FOO_display translates every choice each time).
    kinds = {value: str(label) for value, label in Case.Kind.choices}
    severities = {value: str(label) for value, label in Case.Severity.choices}

    def rows(queryset: QuerySet[Case]) -> list[Case]:
        cases = list(queryset[:limit])
        for case in cases:
            case.engagement = by_id[case.engagement_id]
            case.kind_label = kinds.get(case.kind, case.kind)
            case.severity_label = severities.get(case.severity, str(case.severity))
        return cases

    return CaseRisks(
        at_risk=rows(unanswered.filter(response_due_at__gt=now)),
        breached=rows(unanswered.filter(response_due_at__lte=now)),
    )


def manager_loads() -> list[User]:
    """Every active service manager with their open assigned items, in one aggregate query."""
    return list(
        User.objects.filter(kind=User.Kind.MANAGER, is_active=True)
        .annotate(open_items=open_items_of_assignee())
        .order_by("-open_items", "name", "email")
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

    sessions = _with_state(
        _labelled(
            list(
                Occurrence.objects.filter(
                    engagement_id__in=ids,
                    scheduled_start__gte=weeks[0].start,
                    scheduled_start__lt=weeks[-1].end,
                )
                .only(*BOARD_SESSION_FIELDS)
                .order_by("scheduled_start", "id")
            ),
            labels,
        ),
        now,
    )
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
    missed = _with_state(
        _labelled(
            list(
                Occurrence.objects.filter(
                    engagement_id__in=ids, scheduled_start__gte=now - timedelta(days=MISSED_DAYS)
                )
                .filter(
                    Q(status=Occurrence.Status.MISSED)
                    | Q(status=Occurrence.Status.SCHEDULED, scheduled_start__lt=weeks[0].start)
                )
                .only(*BOARD_SESSION_FIELDS)
                .order_by("-scheduled_start", "-id")[:BOARD_LIMIT]
            ),
            labels,
        ),
        now,
    )
    requested = _labelled(
        list(
            Occurrence.objects.filter(
                engagement_id__in=ids,
                status=Occurrence.Status.SCHEDULED,
                period__startswith=f"{Frequency.AS_NEEDED}:",
                scheduled_start__gte=now,
            )
            .select_related("requested_by")
            .order_by("scheduled_start", "id")[:BOARD_LIMIT]
        ),
        labels,
    )
    risks = case_risks(shown, now)
    context: dict[str, Any] = {
        "engagement_options": _engagement_options(engagements, chosen),
        "rows": rows,
        "lines": _board_lines(rows, text),
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
        "after_hours": pending_after_hours(AfterHoursRequest.objects.filter(engagement_id__in=ids)),
        "over_cap": [row for row in rows if row.hours.over_cap or row.overage_flag],
        "board_limit": BOARD_LIMIT,
    }
    if user.is_provider_admin:
        context["managers"] = manager_loads()
        context["cap"] = (
            PlanModel.objects.aggregate(cap=Min("max_open_cases_per_manager"))["cap"]
            or DEFAULT_CASE_CAP
        )
    else:
        context["load"] = open_case_count(user)
        caps = [engagement.plan.max_open_cases_per_manager for engagement in engagements]
        context["cap"] = min(caps) if caps else DEFAULT_CASE_CAP
    return render(request, "reviews/board.html", context)


# --- The list of sessions -------------------------------------------------------------------------


class OccurrencePageFilter(OccurrenceFilter):
    """The list's filters: the API's, narrowed to engagement, deliverable and status, with
    labelled choices."""

    deliverable = django_filters.ChoiceFilter(
        label=gettext_lazy("What"), empty_label=gettext_lazy("Anything")
    )

    def __init__(self, *args: Any, labels: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("method", "scheduled_after", "scheduled_before"):
            self.filters.pop(name, None)
        engagement = self.filters["engagement"]
        engagement.label = gettext_lazy("Engagement")
        engagement.extra["empty_label"] = gettext_lazy("All engagements")
        # Scoped (as the base class made it), with what the option labels need in one query.
        engagement.queryset = Engagement.objects.select_related("organization", "plan")
        self.filters["deliverable"].extra["choices"] = sorted(
            labels.items(), key=lambda pair: (pair[0] != WEEKLY_CALL, pair[1])
        )
        status = self.filters["status"]
        status.label = gettext_lazy("Status")
        status.extra["empty_label"] = gettext_lazy("Any status")


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return urlencode([(key, value) for key, value in query.items() if value])


@login_required
@require_GET
def occurrence_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Sessions of the engagements the viewer may see: the next 90 days, then the past ones
    (newest first, paged). Customers see their organization's; managers theirs; admins all."""
    now = timezone.now()
    labels = deliverable_labels()
    filterset = OccurrencePageFilter(
        request.GET or None, queryset=_occurrences(), request=request, labels=labels
    )
    occurrences = filterset.qs
    upcoming = list(
        occurrences.filter(
            scheduled_start__gte=now, scheduled_start__lt=now + timedelta(days=UPCOMING_DAYS)
        ).order_by("scheduled_start", "id")[: UPCOMING_LIMIT + 1]
    )
    page = Paginator(
        occurrences.filter(scheduled_start__lt=now).order_by("-scheduled_start", "-id"), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    _with_state(_labelled(upcoming[:UPCOMING_LIMIT], labels), now)
    page.object_list = _with_state(_labelled(list(page.object_list), labels), now)
    user: User = request.user
    return render(
        request,
        "reviews/occurrence_list.html",
        {
            "filterset": filterset,
            "filtering": any(request.GET.get(name) for name in filterset.filters),
            "upcoming": upcoming[:UPCOMING_LIMIT],
            "upcoming_more": len(upcoming) > UPCOMING_LIMIT,
            "upcoming_days": UPCOMING_DAYS,
            "page": page,
            "query": _query_without_page(request),
            "staff": user.is_provider_staff,
            "may_request": user.is_provider_staff or _contact_engagements(user).exists(),
        },
    )


def upcoming_sessions(
    engagement_ids: list[int], *, now: datetime | None = None, limit: int = 5
) -> list[Occurrence]:
    """The next scheduled sessions of the engagements, labelled (two queries), for the
    customer dashboard."""
    now = now or timezone.now()
    if not engagement_ids:
        return []
    sessions = list(
        _occurrences()
        .filter(
            engagement_id__in=engagement_ids,
            status=Occurrence.Status.SCHEDULED,
            scheduled_start__gte=now,
        )
        .order_by("scheduled_start", "id")[:limit]
    )
    return _with_state(_labelled(sessions, deliverable_labels()), now) if sessions else []


# --- One session ----------------------------------------------------------------------------------


def engagement_people(engagement: Engagement) -> list[User]:
    """Who may attend or own an action item: the engagement's staff and named contacts."""
    contact_ids = Contact.objects.filter(
        engagement=engagement, removed_at__isnull=True
    ).values_list("user_id", flat=True)
    staff_ids = [pk for pk in (engagement.manager_id, engagement.deputy_id) if pk]
    return list(
        User.objects.filter(Q(pk__in=staff_ids) | Q(pk__in=list(contact_ids))).order_by(
            "kind", "name", "email"
        )
    )


def _items_of(occurrence: Occurrence) -> list[ActionItem]:
    return list(
        ActionItem.objects.filter(occurrence=occurrence)
        .select_related("owner")
        .order_by("done", "due_date", "id")
    )


@login_required
@require_GET
def occurrence_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """What, when (the viewer's and the engagement's time), how, who attended, the minutes and
    the action items; the staff's actions."""
    occurrence = _occurrence_or_404(pk)
    user: User = request.user
    engagement = occurrence.engagement
    now = timezone.now()
    staff = services.serves(user, engagement)
    contact = not staff and user.is_customer and is_active_contact(engagement, user)
    labels = deliverable_labels()
    _with_state(_labelled([occurrence], labels), now)
    items = _items_of(occurrence)
    for item in items:
        item.may_toggle = staff or contact or item.owner_id == user.pk
    scheduled = occurrence.status == Occurrence.Status.SCHEDULED
    return render(
        request,
        "reviews/occurrence_detail.html",
        {
            "occurrence": occurrence,
            "engagement": engagement,
            "attendees": list(occurrence.attendees.order_by("name", "email")),
            "items": items,
            "staff": staff,
            "requested": is_requested(occurrence),
            "may_complete": staff
            and occurrence.status in (Occurrence.Status.SCHEDULED, Occurrence.Status.MISSED),
            "may_cancel": scheduled and (staff or occurrence.requested_by_id == user.pk),
            "cancel_form": CancelForm(),
            "allowed_methods": services.allowed_methods(engagement, occurrence.deliverable),
            "different_zone": str(timezone.get_current_timezone()) != engagement.timezone,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def occurrence_complete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The engagement's staff record what happened. Nothing is saved when the service refuses."""
    occurrence = _occurrence_or_404(pk)  # 404 before 403: reveal nothing
    user: User = request.user
    engagement = occurrence.engagement
    if not services.serves(user, engagement):
        raise PermissionDenied
    if occurrence.status in (Occurrence.Status.COMPLETED, Occurrence.Status.CANCELLED):
        messages.info(
            request,
            _("This session is already %(status)s.")
            % {"status": occurrence.get_status_display().lower()},
        )
        return redirect("occurrence_detail", pk=occurrence.pk)
    people = engagement_people(engagement)
    allowed = services.allowed_methods(engagement, occurrence.deliverable)
    data = request.POST if request.method == "POST" else None
    form = CompleteForm(data, allowed_methods=allowed, people=people)
    items = ActionItemFormSet(data, prefix="items", form_kwargs={"people": people})
    if request.method == "POST" and form.is_valid() and items.is_valid():
        rows = [row for row in items.forms if not row.is_blank]
        try:
            services.occurrence_complete(
                acting_user=user,
                occurrence=occurrence,
                method=form.cleaned_data["method"],
                minutes=form.cleaned_data["minutes"],
                attendees=form.chosen_attendees(),
                other_attendees=form.cleaned_data["other_attendees"],
                action_items=[row.item() for row in rows],
            )
        except services.NotAllowed as error:
            return refused(request, error)
        except DomainError as error:
            _show_complete_error(form, rows, error)
        else:
            messages.success(request, _("Session recorded as completed."))
            return redirect("occurrence_detail", pk=occurrence.pk)
    labels = deliverable_labels()
    _labelled([occurrence], labels)
    return render(
        request,
        "reviews/occurrence_complete.html",
        {"occurrence": occurrence, "engagement": engagement, "form": form, "items": items},
    )


def _show_complete_error(form: CompleteForm, rows: list[Any], error: DomainError) -> None:
    """The service's field errors beside their inputs; an action item's beside its row."""
    fields: dict[str, Any] = {}
    for key, value in error.fields.items():
        prefix, _dot, index = key.partition(".")
        if prefix == "action_items" and index.isdigit() and int(index) < len(rows):
            for message in value if isinstance(value, list) else [value]:
                rows[int(index)].add_error("description", message)
        else:
            fields[key] = value
    if fields or not error.fields:
        error.fields = fields
        apply_domain_error(form, error)


@login_required
@require_POST
def occurrence_cancel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The engagement's staff, or whoever requested the session, cancel it."""
    occurrence = _occurrence_or_404(pk)
    form = CancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.occurrence_cancel(acting_user=request.user, occurrence=occurrence, reason=reason)
    except services.NotAllowed as error:
        return refused(request, error)
    except DomainError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, _("Session cancelled."))
    return redirect("occurrence_detail", pk=occurrence.pk)


@login_required
@require_POST
def action_item_toggle(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Tick an action item off (or on again): the engagement's staff and named contacts, and the
    item's owner. With htmx, answers the item's row."""
    item = get_object_or_404(
        ActionItem.objects.select_related("occurrence__engagement", "owner"), pk=pk
    )
    try:
        item = services.action_item_set_done(
            acting_user=request.user, item=item, done=not item.done
        )
    except services.NotAllowed as error:
        return refused(request, error)
    if request.headers.get("HX-Request") == "true":
        item.may_toggle = True
        return render(request, "reviews/_action_item.html", {"item": item})
    return redirect(reverse("occurrence_detail", args=[item.occurrence_id]) + f"#item-{item.pk}")


# --- Requesting an "as needed" session ------------------------------------------------------------


def _contact_engagements(user: User) -> QuerySet[Engagement]:
    return Engagement.objects.filter(
        pk__in=Contact.objects.filter(user=user, removed_at__isnull=True).values("engagement_id")
    )


def requestable_engagements(user: User) -> QuerySet[Engagement]:
    """Current engagements the user may request a session for (inside the request's scope):
    admins any, managers those they serve, customers those they are a named contact of."""
    if user.is_provider_admin:
        queryset = Engagement.objects.all()
    elif user.is_service_manager:
        queryset = Engagement.objects.filter(Q(manager=user) | Q(deputy=user))
    else:
        queryset = _contact_engagements(user)
    return queryset.filter(end_date__gte=timezone.localdate()).select_related(
        "organization", "plan"
    )


@login_required
@require_http_methods(["GET", "POST"])
def occurrence_request(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Named contacts and the engagement's staff ask for an "as needed" session (an upgrade
    planning meeting, an enablement session, …) by a method the plan allows."""
    user: User = request.user
    engagements = requestable_engagements(user)
    engagement_list = list(engagements)
    if not engagement_list and user.is_customer:
        raise PermissionDenied
    deliverables = requestable_deliverables({engagement.plan_id for engagement in engagement_list})
    kwargs: dict[str, Any] = {
        "engagements": engagements,
        "engagement_list": engagement_list,
        "deliverables": deliverables,
        "refresh_url": reverse("occurrence_request"),
    }
    if request.method == "POST":
        form = RequestForm(request.POST, **kwargs)
        if form.is_valid():
            data = form.cleaned_data
            try:
                occurrence = services.occurrence_request(
                    acting_user=user,
                    engagement=data["engagement"],
                    deliverable=data["deliverable"],
                    method=data["method"],
                    preferred_start=data["preferred_start"],
                    note=data["note"],
                )
            except services.NotAllowed as error:
                return refused(request, error)
            except NotEntitled as error:
                form.add_error("deliverable", error.detail)
            except DomainError as error:
                apply_domain_error(form, error)
            else:
                messages.success(
                    request,
                    _("Session requested. Your service manager will confirm the time."),
                )
                return redirect("occurrence_detail", pk=occurrence.pk)
    else:
        initial = {
            name: request.GET[name]
            for name in ("engagement", "deliverable", "method", "preferred_start", "note")
            if request.GET.get(name)
        }
        form = RequestForm(initial=initial, **kwargs)
    return render(
        request,
        "reviews/request.html",
        {"form": form, "has_engagements": bool(engagement_list)},
    )
