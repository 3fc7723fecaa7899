"""Inquiries and cases, from raising to resolution: reads."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any, cast

from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    Min,
    OrderBy,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext as _

from cases.casework import services
from cases.casework.models import Case
from cases.sla import Sla, sla_condition
from cases.templatetags.cases import LABELS, severity_class, sla_code
from engagements.absences.models import Absence
from engagements.absences.selectors import absences_at, cover_of
from engagements.catalog.models import Plan
from engagements.contracts.models import Engagement
from portal.accounts.models import User
from portal.formats import LocalDates
from portal.tenancy.models import Organization
from portal.tenancy.scoping import current_scope, instances_compiled_once, rows_compiled_once


def cap_for(user: User) -> int:
    """The strictest open-items cap of the plans of the engagements the manager serves."""
    cap = Engagement.objects.filter(Q(manager=user) | Q(deputy=user)).aggregate(
        cap=Min("plan__max_open_cases_per_manager")
    )["cap"]
    return cap or DEFAULT_CAP


def managers_with_load() -> list[User]:
    """Every active service manager with their open assigned items (`open_items`), most loaded
    first, in one aggregate query (the case list's and the weekly board's load panel)."""
    return list(
        User.objects.filter(kind=User.Kind.MANAGER, is_active=True)
        .annotate(open_items=services.open_items_of_assignee())
        .order_by("-open_items", "name", "email")
    )


def manager_loads() -> tuple[Sequence[User], int]:
    """`managers_with_load()`, and the cap (the strictest of the plans)."""
    cap = Plan.objects.aggregate(cap=Min("max_open_cases_per_manager"))["cap"] or DEFAULT_CAP
    return managers_with_load(), cap


DEFAULT_CAP = Plan._meta.get_field("max_open_cases_per_manager").default


def cases_in_scope() -> QuerySet[Case]:
    return Case.objects.select_related(
        "engagement__organization", "engagement__plan", "assignee", "raised_by"
    )


# What the API's case representation reads (`serializers.case_representations`): the item's
# own columns, its RCA and its rating, in one query of plain rows.
CASE_ROW_FIELDS = (
    "id",
    "engagement_id",
    "kind",
    "severity",
    "subject",
    "description",
    "status",
    "received_at",
    "response_due_at",
    "reminder_due_at",
    "first_response_at",
    "assignee_id",
    "priority",
    "raised_by_id",
    "escalated_at",
    "resolved_at",
    "closed_at",
    "created_at",
    "updated_at",
    "rca__id",
    "rca__findings",
    "rca__corrective_actions",
    "rca__delivery_method",
    "rca__delivered_at",
    "rca__author",
    "rca__created_at",
    "rating__id",
    "rating__score",
    "rating__comment",
    "rating__rated_by",
    "rating__rated_at",
    "rating__updated_at",
)


def case_rows(cases: QuerySet[Case]) -> QuerySet[Case, dict[str, Any]]:
    """`cases` (already scoped and filtered) as plain rows of `CASE_ROW_FIELDS`."""
    return cases.values(*CASE_ROW_FIELDS)


def case_rows_by_id(ids: Sequence[int]) -> list[dict[str, Any]]:
    """The rows (`CASE_ROW_FIELDS`) of the items of `ids` the open scope may see, in no
    particular order. The statement is compiled once per scope and number of ids
    (`rows_compiled_once`): the API's detail and list pages run it on every request."""
    return rows_compiled_once(
        "cases.case_rows_by_id",
        lambda keys: case_rows(Case.objects.order_by().filter(pk__in=keys)),
        ids,
    )


# Past this many engagements a page's ids come from one query over all of them.
SPLIT_ENGAGEMENTS_MAX = 100
# The orders an engagement's index serves (`case_engagement_received`); the others have their
# own index over every engagement (`case_updated`) or sort what the filters leave.
SPLIT_ORDERINGS = (["-received_at", "-id"], ["received_at", "id"])


def _engagements_to_split() -> list[int] | None:
    """The engagements whose items the open scope shows, or None when it shows every item."""
    scope = current_scope()
    if scope.everything:
        return None
    if not scope.is_customer:
        return sorted(scope.engagement_ids)
    # Kept with the scope: a token's scope is kept for at most a second
    # (portal/api/authentication.py), so an engagement added meanwhile shows within that second.
    ids: list[int] | None = scope._extra.get("case_engagement_ids")
    if ids is None:
        ids = sorted(Engagement.objects.order_by().values_list("pk", flat=True))
        scope._extra["case_engagement_ids"] = ids
    return ids


def page_ids(
    cases: QuerySet[Case], limit: int, *, offset: int = 0, shape: str | None = None
) -> list[int]:
    """The ids of `limit` of `cases` (scoped, filtered and ordered) after the first `offset`.

    On PostgreSQL each of the viewer's engagements gives its own first `offset + limit` rows
    (an index scan of `case_engagement_received` for the default order) and the union is sorted
    again: the cost follows the page and the number of engagements, not the organization's
    thousands of items, which one query would read and sort in full (issue 17).

    `shape`, when given, names what `cases` is beyond the open scope and its order (a view's
    list with no filter and no cursor: it always builds the same query): the statement is
    then compiled once per scope (`rows_compiled_once`)."""
    if shape is not None:
        ordering = ",".join(str(field) for field in cases.query.order_by)
        key = f"cases.page_ids:{shape}:{ordering}:{offset}:{limit}"
        rows = rows_compiled_once(key, lambda _values: _page_ids_query(cases, limit, offset), [])
        return [row["id"] for row in rows]
    return [row[0] for row in _page_ids_query(cases, limit, offset)]


def _page_ids_query(
    cases: QuerySet[Case], limit: int, offset: int = 0
) -> QuerySet[Case, tuple[Any, ...]]:
    """page_ids' statement: rows whose first column is the id."""
    ordering = [str(field) for field in cases.query.order_by]
    engagements = _engagements_to_split() if ordering in SPLIT_ORDERINGS else None
    if (
        engagements is None
        or len(engagements) > SPLIT_ENGAGEMENTS_MAX
        or not connection.features.supports_slicing_ordering_in_compound
    ):
        return cases.values_list("id")[offset : offset + limit]
    if not engagements:
        return cases.none().values_list("id")
    columns = [
        "id",
        *dict.fromkeys(field.lstrip("-") for field in ordering if field.lstrip("-") != "id"),
    ]
    first, *rest = (
        cases.filter(engagement_id=engagement).values_list(*columns)[: offset + limit]
        for engagement in engagements
    )
    if rest:
        return first.union(*rest, all=True).order_by(*ordering)[offset : offset + limit]
    return first[offset : offset + limit]


# The case list counts its items up to this many: past it the pager says "more than" (counting
# a large organization's every item cost more than the rest of its page; issue 17).
PAGE_COUNT_CAP = 1000


@dataclass
class CasePage:
    """A page of the case list: its rows (filled by the view), where it stands among the pages
    and how many items there are — exactly up to `PAGE_COUNT_CAP`, else `count_capped`."""

    ids: list[int]
    number: int
    per_page: int
    count: int  # exact, or PAGE_COUNT_CAP when `count_capped`
    count_capped: bool
    has_next: bool
    rows: list[CaseRow] = field(default_factory=list)

    def __iter__(self) -> Iterator[CaseRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def num_pages(self) -> int:
        """The number of pages (at least: more when `count_capped`)."""
        return max(1, -(-self.count // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


def case_page(cases: QuerySet[Case], page: str | None, per_page: int) -> CasePage:
    """Page `page` (a number as the URL gives it: anything else is the first page, one past the
    end the last) of `cases`, scoped, filtered and ordered: its ids by `page_ids`, one more
    than the page to know whether another follows, and the items counted up to
    `PAGE_COUNT_CAP` (a count of a bounded subquery). Two queries (three when the viewer's
    engagements are read to split by, four for a page past the end of a long list)."""
    try:
        number = max(1, int(page or 1))
    except (TypeError, ValueError):
        number = 1
    count = cases.order_by()[: PAGE_COUNT_CAP + 1].count()
    capped = count > PAGE_COUNT_CAP
    if capped:
        count = PAGE_COUNT_CAP
    else:
        number = min(number, max(1, -(-count // per_page)))
    ids = page_ids(cases, per_page + 1, offset=(number - 1) * per_page)
    if capped and not ids and number > 1:  # past the end of a long list: its last page
        count, capped = cases.count(), False
        number = max(1, -(-count // per_page))
        ids = page_ids(cases, per_page + 1, offset=(number - 1) * per_page)
    return CasePage(
        ids=ids[:per_page],
        number=number,
        per_page=per_page,
        count=count,
        count_capped=capped,
        has_next=len(ids) > per_page,
    )


# The case list's sortable columns (`?sort=key`, `?sort=-key` descending): each key's fields, in
# the ascending direction; the id always ends the order, so pages are stable under ties.
CASE_SORTS: dict[str, tuple[str, ...]] = {
    "subject": ("subject",),
    "severity": ("severity",),
    "status": ("status",),
    "raised": ("received_at",),
    "due": ("response_due_at",),
    "assignee": ("assignee__name", "assignee__email"),
    "engagement": ("engagement__name",),
}


def case_sort_key(sort: str) -> str | None:
    """The column a `sort` value names (without its `-`), or None when it names none."""
    key = sort[1:] if sort.startswith("-") else sort
    return key if key in CASE_SORTS else None


def case_ordering(sort: str) -> list[OrderBy]:
    """The `order_by()` of a valid `sort` value (see `CASE_SORTS`): ties broken by id in the
    same direction; the unassigned sort last either way."""
    descending = sort.startswith("-")
    key = cast(str, case_sort_key(sort))
    fields = [*CASE_SORTS[key], "id"]
    if descending:
        return [F(name).desc(nulls_last=True) for name in fields]
    return [F(name).asc(nulls_last=True) for name in fields]


@dataclass(frozen=True)
class Cover:
    """Who covers an item while its holder is away, and until when."""

    absence: Absence  # the holder's: `manager_id` is the holder, `ends_at` the end
    user: User  # who covers


def case_covers(cases: Iterable[Case], at: datetime) -> dict[int, Cover]:
    """The cover of each item whose holder (assignee) is away at `at`, by item: the deputy for
    an absent manager, the manager for an absent deputy (see `cover_of`). At most two queries
    whatever the number of items; none when no item is held."""
    items = list(cases)
    return covers_of_held(
        [(case.pk, case.engagement_id, case.assignee_id) for case in items],
        at,
        engagements={
            case.engagement_id: case.engagement
            for case in items
            if case.assignee_id and Case.engagement.is_cached(case)
        },
    )


def covers_of_held(
    items: Iterable[tuple[int, int, int | None]],
    at: datetime,
    *,
    engagements: dict[int, Engagement] | None = None,
) -> dict[int, Cover]:
    """`case_covers` of items given as (id, engagement id, assignee id), as the API's plain
    rows carry them; `engagements` are those already loaded (with manager and deputy)."""
    held = [
        (pk, engagement_id, assignee_id) for pk, engagement_id, assignee_id in items if assignee_id
    ]
    if not held:
        return {}
    engagements = dict(engagements or {})
    missing = {engagement_id for _pk, engagement_id, _assignee in held} - set(engagements)
    if missing:
        engagements.update(Engagement.objects.select_related("manager", "deputy").in_bulk(missing))
    absent = absences_at(
        {assignee_id for _pk, _engagement, assignee_id in held}
        | {pk for e in engagements.values() for pk in (e.manager_id, e.deputy_id)},
        at,
    )
    covers: dict[int, Cover] = {}
    for pk, engagement_id, assignee_id in held:
        user = cover_of(engagements[engagement_id], assignee_id, absent)
        if user is not None:
            covers[pk] = Cover(absence=absent[assignee_id], user=user)
    return covers


TREND_WEEKS = 12


def _counts(rows: list[tuple[str, int]]) -> dict[str, Any]:
    kinds = Counter(kind for kind, _severity in rows)
    severities = Counter(severity for _kind, severity in rows)
    return {
        "total": len(rows),
        "by_kind": {kind: kinds.get(kind, 0) for kind in Case.Kind.values},
        "by_severity": {str(level): severities.get(level, 0) for level in Case.Severity.values},
    }


def case_trends(engagement: Engagement, *, now: datetime | None = None) -> dict[str, Any]:
    """Items opened and closed per week (Monday first, in the engagement's zone) over the last
    `TREND_WEEKS` weeks, by kind and severity, and the open items by status. Three queries."""
    zone = engagement.zone
    today = engagement.local_today(now)
    this_monday = today - timedelta(days=today.weekday())
    mondays = [this_monday - timedelta(weeks=n) for n in range(TREND_WEEKS - 1, -1, -1)]
    since = datetime.combine(mondays[0], time.min, tzinfo=zone)
    cases = Case.objects.filter(engagement=engagement).order_by()

    def by_week(field: str) -> dict[date, list[tuple[str, int]]]:
        weeks: dict[date, list[tuple[str, int]]] = {monday: [] for monday in mondays}
        rows = cases.filter(**{f"{field}__gte": since}).values_list(field, "kind", "severity")
        for at, kind, severity in rows:
            day = at.astimezone(zone).date()
            monday = day - timedelta(days=day.weekday())
            if monday in weeks:
                weeks[monday].append((kind, severity))
        return weeks

    opened, closed = by_week("received_at"), by_week("closed_at")
    open_counts = dict(
        cases.filter(status__in=Case.OPEN_STATUSES)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return {
        "engagement": engagement.pk,
        "timezone": engagement.timezone,
        "weeks": [
            {
                "week_start": monday,
                "opened": _counts(opened[monday]),
                "closed": _counts(closed[monday]),
            }
            for monday in mondays
        ],
        "open_by_status": {state: open_counts.get(state, 0) for state in Case.OPEN_STATUSES},
    }


HOME_OPEN_ITEMS = 10  # the most urgent open items on a customer's home; the rest: the list
HOME_WAITING_ITEMS = 10
HOME_RESOLVED_ITEMS = 10
HOME_RESOLVED_DAYS = 14
_HOME_URGENT, _HOME_WAITING, _HOME_ENDED = 0, 1, 2  # the home's lists, in one statement's rows


@dataclass(frozen=True)
class CustomerHome:
    """What a customer's dashboard shows of their organizations' items (`CaseRow`s)."""

    open_count: int  # open items, those waiting on the customer included
    at_risk_count: int  # unanswered open items past 75 % of their response window
    breached_count: int  # unanswered open items past their response due time
    open_items: list[CaseRow]  # unanswered first by due time, then the answered ones
    waiting: list[CaseRow]  # awaiting the customer's reply, oldest update first
    waiting_count: int
    resolved: list[CaseRow]  # resolved or closed in the last HOME_RESOLVED_DAYS days, newest first


def _home_counts(organizations: Sequence[int], now: datetime) -> QuerySet[Case, dict[str, Any]]:
    """customer_home's counts: one row (a constant grouped by nothing)."""
    return (
        Case.objects.filter(
            engagement__organization_id__in=organizations, status__in=Case.OPEN_STATUSES
        )
        .order_by()
        .annotate(_one=Value(1))
        .values("_one")
        .annotate(
            open=Count("pk"),
            at_risk=Count("pk", filter=sla_condition(Sla.AT_RISK, now)),
            breached=Count("pk", filter=sla_condition(Sla.BREACHED, now)),
            waiting=Count("pk", filter=Q(status=Case.Status.AWAITING_CUSTOMER)),
        )
    )


def _home_parts(
    organizations: Sequence[int], since: datetime
) -> tuple[QuerySet[Case, tuple[Any, ...]], ...]:
    """The ids of customer_home's three lists, each row marked with its list (`part`)."""
    items = Case.objects.filter(engagement__organization_id__in=organizations)
    open_items = items.filter(status__in=Case.OPEN_STATUSES)
    answered = ExpressionWrapper(Q(first_response_at__isnull=False), output_field=BooleanField())
    urgent = (
        open_items.exclude(status=Case.Status.AWAITING_CUSTOMER)
        .alias(answered=answered)
        .annotate(part=Value(_HOME_URGENT))
        .order_by("answered", "response_due_at", "pk")
        .values_list("pk", "part")[:HOME_OPEN_ITEMS]
    )
    waiting = (
        open_items.filter(status=Case.Status.AWAITING_CUSTOMER)
        .annotate(part=Value(_HOME_WAITING))
        .order_by("updated_at", "pk")
        .values_list("pk", "part")[:HOME_WAITING_ITEMS]
    )
    # Resolved, else closed, since `since`: the same as "resolved since, or never resolved and
    # closed since", said as the index's expression.
    ended = (
        items.filter(status__in=(Case.Status.RESOLVED, Case.Status.CLOSED))
        .alias(ended=Coalesce("resolved_at", "closed_at"))
        .filter(ended__gte=since)
        .annotate(part=Value(_HOME_ENDED))
        .order_by(F("ended").desc(), "-pk")
        .values_list("pk", "part")[:HOME_RESOLVED_ITEMS]
    )
    return urgent, waiting, ended


def _home_part(index: int, values: Sequence[Any]) -> QuerySet[Case, tuple[Any, ...]]:
    """One of the three lists' ids (`values`: the organizations, then `since`)."""
    return _home_parts(values[:-1], values[-1])[index]


def _home_lists(values: Sequence[Any]) -> QuerySet[Case, tuple[Any, ...]]:
    """The three lists' ids in one statement (`values`: the organizations, then `since`)."""
    urgent, waiting, ended = _home_parts(values[:-1], values[-1])
    return urgent.union(waiting, ended, all=True)


def customer_home(
    organization_ids: Iterable[int],
    now: datetime,
    engagements: Iterable[Engagement] = (),
) -> CustomerHome:
    """The open, waiting and recently resolved items of `organization_ids` (the viewer's active
    memberships; the scope also keeps out anything else). Three queries whatever the rows: the
    counts, the ids of the three lists (narrow reads of an index, in one statement; a statement
    each on SQLite), the listed rows by id.

    The items take their engagement from `engagements` (the page's cards, loaded with their
    organization and plan) rather than a join per item; one more query fetches any other (an
    item of an engagement that ended long ago). Rows come formatted (`CaseRow`)."""
    organizations = sorted(set(organization_ids))
    since = now - timedelta(days=HOME_RESOLVED_DAYS)
    # Counted and chosen from the open items' covering index (`case_home_open`) and the
    # ended ones' index by end time (`case_home_ended`), so the organization's whole history
    # is never read (issue 17); only the listed rows are then fetched, by id, in one query.
    # Each statement is compiled once (`rows_compiled_once`): the home is read on every visit.
    counts = next(
        iter(
            rows_compiled_once(
                "cases.home_counts",
                lambda values: _home_counts(values[:-1], values[-1]),
                [*organizations, now],
            )
        ),
        # No organization at all: the ORM answers an empty `IN ()` without asking.
        {"open": 0, "at_risk": 0, "breached": 0, "waiting": 0},
    )
    if connection.features.supports_slicing_ordering_in_compound:
        # one statement; each part keeps its own limit (the lists are sorted again below)
        chosen = rows_compiled_once("cases.home_lists", _home_lists, [*organizations, since])
    else:  # SQLite: a list at a time
        chosen = [
            row
            for index, name in enumerate(("urgent", "waiting", "ended"))
            if name != "waiting" or counts["waiting"]
            for row in rows_compiled_once(
                f"cases.home_lists.{name}", partial(_home_part, index), [*organizations, since]
            )
        ]
    urgent_ids: list[int] = []
    waiting_ids: list[int] = []
    resolved_ids: list[int] = []
    lists = {_HOME_URGENT: urgent_ids, _HOME_WAITING: waiting_ids, _HOME_ENDED: resolved_ids}
    for row in chosen:
        lists[row["part"]].append(row["pk"])
    wanted = [*urgent_ids, *waiting_ids, *resolved_ids]
    by_pk = {
        case.pk: case
        for case in (
            instances_compiled_once(
                "cases.home_rows",
                lambda values: Case.objects.defer("description").filter(pk__in=values),
                wanted,
            )
            if wanted
            else ()
        )
    }
    # Each list in its statement's order again: SQL does not promise that UNION ALL keeps its
    # parts' orders (a parallel append may interleave them), so the order is not taken from it.
    urgent = sorted(
        (by_pk[pk] for pk in urgent_ids if pk in by_pk),
        key=lambda case: (case.first_response_at is not None, case.response_due_at, case.pk),
    )
    waiting = sorted(
        (by_pk[pk] for pk in waiting_ids if pk in by_pk),
        key=lambda case: (case.updated_at, case.pk),
    )
    resolved = sorted(
        (by_pk[pk] for pk in resolved_ids if pk in by_pk),
        key=lambda case: (case.resolved_at or case.closed_at, case.pk),
        reverse=True,
    )
    by_id = {engagement.pk: engagement for engagement in engagements}
    listed = [*urgent, *waiting, *resolved]
    missing = {case.engagement_id for case in listed} - set(by_id)
    if missing:
        by_id.update(Engagement.objects.select_related("organization", "plan").in_bulk(missing))
    for case in listed:
        case.engagement = by_id[case.engagement_id]
    text = CaseRowText(now)
    return CustomerHome(
        open_count=counts["open"],
        at_risk_count=counts["at_risk"],
        breached_count=counts["breached"],
        open_items=[text.row(case, assignee=False, countdown=True) for case in urgent],
        waiting=[text.row(case, assignee=False, waiting=True) for case in waiting],
        waiting_count=counts["waiting"],
        resolved=[text.row(case, assignee=False, ended=True) for case in resolved],
    )


# --- The rows of the case list and the customer's home, formatted once per request (issue 17) ---

_URL_MARKER = 2147483646  # an id no table reaches; only a placeholder in a reversed URL


@dataclass(frozen=True)
class CaseRow:
    """What a list shows of one item, every cell already translated and localized: the template
    looks each up once (a model instance would translate its choices and format its dates per
    cell, which was most of the case list's time)."""

    pk: int
    url: str
    subject: str
    kind: str  # the kind's label
    priority: int | None
    priority_label: str  # "P2"
    escalated: bool
    engagement: str
    organization: str
    severity_css: str
    severity: str  # the severity's label
    status: str  # the status's label
    sla_code: str
    sla_css: str
    sla_label: str
    sla_title: SafeString  # "Response due …" / "Responded …; due …", values escaped
    received: str  # DAY_TIME_FORMAT in the viewer's zone and language
    due: str
    assignee: str  # "" in the provider queue
    select_label: str  # the bulk checkbox's "Select #12"
    answered: bool
    due_at: datetime
    countdown: str = ""  # the home's "response due in …" / "response overdue by …"
    received_text: str = ""  # the home's "received Fri 4 Dec, 14:30"
    waiting_for: str = ""  # the home's "waiting for 3 days"
    ended: str = ""  # when it was resolved (else closed), DAY_TIME_FORMAT
    age: str = ""  # the queue's "2 days, 3 hours" since it was received


class CaseRowText:
    """The labels, names and date patterns of the rows, read once per request (active language
    and time zone)."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.dates = LocalDates()
        self.kinds = {value: str(label) for value, label in Case.Kind.choices}
        self.severities = {value: str(label) for value, label in Case.Severity.choices}
        self.statuses = {value: str(label) for value, label in Case.Status.choices}
        self.sla = {code: (str(label), css) for code, (label, css) in LABELS.items()}
        self.responded = _("Responded %(when)s; due %(due)s")
        self.response_due = _("Response due %(due)s")
        self.priority = _("P%(priority)s")
        self.select = _("Select #%(id)s")
        self.due_in = _("response due in %(left)s")
        self.overdue_by = _("response overdue by %(late)s")
        self.waiting = _("waiting for %(since)s")
        self.received = _("received %(when)s")
        prefix, suffix = reverse("case_detail", args=[_URL_MARKER]).split(str(_URL_MARKER))
        self.url_prefix, self.url_suffix = prefix, suffix

    def row(
        self,
        case: Case,
        *,
        assignee: bool = True,
        countdown: bool = False,
        waiting: bool = False,
        ended: bool = False,
        age: bool = False,
    ) -> CaseRow:
        """`assignee`: name it (loaded with the item); `countdown`, `waiting`, `ended`: the
        home's extra texts, `age` the queue's (see `CaseRow`)."""
        code = sla_code(case, self.now)
        label, css = self.sla[code]
        due = self.dates.format(case.response_due_at, "DATETIME_FORMAT")
        if case.first_response_at is not None:
            title = self.responded % {
                "when": escape(self.dates.format(case.first_response_at, "DATETIME_FORMAT")),
                "due": escape(due),
            }
        else:
            title = self.response_due % {"due": escape(due)}
        engagement = case.engagement
        received = self.dates.format(case.received_at, "DAY_TIME_FORMAT")
        return CaseRow(
            pk=case.pk,
            url=f"{self.url_prefix}{case.pk}{self.url_suffix}",
            subject=case.subject,
            kind=self.kinds.get(case.kind, case.kind),
            priority=case.priority,
            priority_label=self.priority % {"priority": case.priority} if case.priority else "",
            escalated=case.escalated_at is not None,
            engagement=str(engagement),
            organization=engagement.organization.name,
            severity_css=severity_class(case.severity),
            severity=self.severities.get(case.severity, str(case.severity)),
            status=self.statuses.get(case.status, case.status),
            sla_code=code,
            sla_css=css,
            sla_label=label,
            sla_title=mark_safe(title),  # noqa: S308 (our translated text; values escaped)
            received=received,
            due=self.dates.format(case.response_due_at, "DAY_TIME_FORMAT"),
            assignee=str(case.assignee) if assignee and case.assignee_id else "",
            select_label=self.select % {"id": case.pk},
            answered=case.first_response_at is not None,
            due_at=case.response_due_at,
            countdown=self._countdown(case) if countdown else "",
            received_text=self.received % {"when": received} if countdown else "",
            waiting_for=(
                self.waiting % {"since": timesince(case.updated_at, self.now)} if waiting else ""
            ),
            ended=(
                self.dates.format(case.resolved_at or case.closed_at, "DAY_TIME_FORMAT")
                if ended
                else ""
            ),
            age=timesince(case.received_at, self.now) if age else "",
        )

    def _countdown(self, case: Case) -> str:
        if case.first_response_at is not None:
            return ""
        if case.response_due_at > self.now:
            return self.due_in % {"left": timeuntil(case.response_due_at, self.now)}
        return self.overdue_by % {"late": timesince(case.response_due_at, self.now)}


def case_page_rows(*pages: Sequence[int], now: datetime) -> list[list[CaseRow]]:
    """The rows of pages whose ids were chosen first (filtered, sorted and limited: a narrow
    query), each in its ids' order, in one query for all of them: only those items are fetched
    with their joins — joining the engagement, organization, plan and people onto every item of
    a large organization before keeping 50 cost most of the list's query time (the API's
    `CasePagination` does the same)."""
    wanted = {pk for ids in pages for pk in ids}
    if not wanted:
        return [[] for _ids in pages]
    text = CaseRowText(now)
    # Plain rows of the columns a row shows (model instances of the item and its four joined
    # rows, every column of each, cost more than formatting them); the engagements and
    # assignees, a few per page, as model instances made once each for their names.
    engagements: dict[int, Engagement] = {}
    people: dict[int, User] = {}
    rows = {}
    for values in Case.objects.filter(pk__in=wanted).order_by().values_list(*_LISTED_COLUMNS):
        case = _ListedCase(*values[:_LISTED_OWN])
        (org_name, name, plan_name, plan_name_ko, person_name, person_email) = values[_LISTED_OWN:]
        case.engagement = engagements.get(case.engagement_id) or engagements.setdefault(
            case.engagement_id,
            Engagement(
                id=case.engagement_id,
                name=name,
                organization=Organization(name=org_name),
                plan=Plan(name=plan_name, name_ko=plan_name_ko),
            ),
        )
        if case.assignee_id is not None:
            case.assignee = people.get(case.assignee_id) or people.setdefault(
                case.assignee_id, User(id=case.assignee_id, name=person_name, email=person_email)
            )
        rows[case.pk] = text.row(cast(Case, case))  # the fields `row` reads, duck-typed
    return [[rows[pk] for pk in ids if pk in rows] for ids in pages]


# The item's own columns a list row shows, in `_ListedCase`'s order.
_LISTED_FIELDS = (
    "pk",
    "engagement_id",
    "subject",
    "kind",
    "priority",
    "escalated_at",
    "severity",
    "status",
    "received_at",
    "response_due_at",
    "reminder_due_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "updated_at",
    "assignee_id",
)
_LISTED_OWN = len(_LISTED_FIELDS)
_LISTED_COLUMNS = (
    "id",
    *_LISTED_FIELDS[1:],
    "engagement__organization__name",
    "engagement__name",
    "engagement__plan__name",
    "engagement__plan__name_ko",
    "assignee__name",
    "assignee__email",
)


class _ListedCase:
    """What `CaseRowText.row` reads of an item, from a plain row (see `case_page_rows`)."""

    __slots__ = (*_LISTED_FIELDS, "engagement", "assignee")
    pk: int
    engagement_id: int
    status: str
    assignee_id: int | None
    engagement: Engagement
    assignee: User | None

    def __init__(self, *values: Any) -> None:
        for name, value in zip(_LISTED_FIELDS, values, strict=True):
            setattr(self, name, value)
        self.assignee = None

    @property
    def is_open(self) -> bool:
        return self.status in Case.OPEN_STATUSES
