"""Session pages: the manager's weekly board, the list of sessions, one session with its minutes
and action items, completing and cancelling it, and requesting an "as needed" session.

Every occurrence and action item is fetched through the request's tenant scope, so another
tenant's answers 404 exactly like a missing one, before any role check answers 403. Every
change goes through `reviews.services`; a refusal of the rules shows on the form or as a message,
a refusal of rights as the 403 page. Each page issues a constant number of queries.
"""

from __future__ import annotations

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
from django.db.models import Count, Min, Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases.models import Case
from cases.selectors import high_risks
from cases.services import open_case_count
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
from engagements.views import hours_summaries, pending_after_hours, provider_staff_required
from portal.accounts.models import User
from portal.errors import DomainError, NotEntitled
from portal.pages import apply_domain_error
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


def _refused(request: HttpRequest, error: DomainError) -> HttpResponse:
    """A refusal of rights (not allowed, not entitled) as the 403 page, with its reason."""
    return render(request, "403.html", {"detail": error.detail}, status=403)


def _error_text(error: DomainError) -> str:
    details = [
        str(message)
        for messages_ in error.fields.values()
        for message in (messages_ if isinstance(messages_, list) else [messages_])
    ]
    return " ".join(details) if details else error.detail


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
        .select_related("organization", "plan", "manager", "deputy")
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
        .annotate(
            open_items=Count(
                "assigned_cases", filter=Q(assigned_cases__status__in=Case.OPEN_STATUSES)
            )
        )
        .order_by("-open_items", "name", "email")
    )


@provider_staff_required
@require_GET
def weekly_board(request: HttpRequest) -> HttpResponse:
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

    sessions = _with_state(
        _labelled(
            list(
                Occurrence.objects.filter(
                    engagement_id__in=ids,
                    scheduled_start__gte=weeks[0].start,
                    scheduled_start__lt=weeks[-1].end,
                ).order_by("scheduled_start", "id")
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
    missed = _with_state(
        _labelled(
            list(
                _occurrences()
                .filter(
                    engagement_id__in=ids, scheduled_start__gte=now - timedelta(days=MISSED_DAYS)
                )
                .filter(
                    Q(status=Occurrence.Status.MISSED)
                    | Q(status=Occurrence.Status.SCHEDULED, scheduled_start__lt=weeks[0].start)
                )
                .order_by("-scheduled_start", "-id")[:BOARD_LIMIT]
            ),
            labels,
        ),
        now,
    )
    requested = _labelled(
        list(
            _occurrences()
            .filter(
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
    context: dict[str, Any] = {
        "rows": rows,
        "weeks": weeks,
        "engagements": engagements,
        "chosen": chosen,
        "missed": missed,
        "missed_days": MISSED_DAYS,
        "attention_count": len(missed)
        + sum(1 for occurrence in sessions if occurrence.state == "overdue"),
        "risks": case_risks(shown, now),
        "high_risks": list(high_risks(ids)[:BOARD_LIMIT]),
        "requested": requested,
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
def occurrence_list(request: HttpRequest) -> HttpResponse:
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
def occurrence_detail(request: HttpRequest, pk: int) -> HttpResponse:
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
def occurrence_complete(request: HttpRequest, pk: int) -> HttpResponse:
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
            return _refused(request, error)
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
def occurrence_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """The engagement's staff, or whoever requested the session, cancel it."""
    occurrence = _occurrence_or_404(pk)
    form = CancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.occurrence_cancel(acting_user=request.user, occurrence=occurrence, reason=reason)
    except services.NotAllowed as error:
        return _refused(request, error)
    except DomainError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("Session cancelled."))
    return redirect("occurrence_detail", pk=occurrence.pk)


@login_required
@require_POST
def action_item_toggle(request: HttpRequest, pk: int) -> HttpResponse:
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
        return _refused(request, error)
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
def occurrence_request(request: HttpRequest) -> HttpResponse:
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
                return _refused(request, error)
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
