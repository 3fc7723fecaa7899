"""Engagement pages: the list and form, one engagement (contacts, holidays, availability, hours),
after-hours support, time entries, absences; and the engagement panels of the dashboard.

Every engagement is fetched through the request's tenant scope, so another tenant's engagement
answers 404 exactly like a missing one, before any role check answers 403.
"""

from __future__ import annotations

import contextlib
import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict, cast

import holidays as holidays_package
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from engagements import services
from engagements.business_time import (
    BusinessCalendar,
    add_business_days,
    country_holidays,
    is_business_time,
    next_opening,
)
from engagements.entitlements import is_entitled, prime_function_codes
from engagements.forms import (
    AbsenceForm,
    AfterHoursDecideForm,
    AfterHoursRequestForm,
    ContactAddForm,
    EngagementForm,
    HolidayForm,
    TimeEntryForm,
)
from engagements.models import (
    WEEKDAYS,
    Absence,
    AfterHoursRequest,
    Cadence,
    Contact,
    Engagement,
    EngagementHoliday,
    OverageFlag,
    ServiceFunction,
    TimeEntry,
    parse_business_hours,
)
from engagements.selectors import (
    HoursSummary,
    active_contacts,
    engagement_calendar,
    hours_summary,
    is_active_contact,
    week_start,
)
from portal.accounts.models import User
from portal.errors import DomainError
from portal.http import AuthenticatedHttpRequest
from portal.pages import (
    admin_required,
    apply_domain_error,
    error_text,
    get_scoped_or_404,
    provider_staff_required,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    class _UpcomingWindows(TypedDict):  # Prefetch(to_attr=) of the dashboard cards
        upcoming_windows: list[AfterHoursRequest]


UPCOMING_HOLIDAY_DAYS = 60
UPCOMING_ABSENCE_DAYS = 30
TIME_ENTRY_WEEKS = 8

# --- Access -----------------------------------------------------------------------------------


def _engagements() -> QuerySet[Engagement]:
    return Engagement.objects.select_related("organization", "plan", "manager", "deputy")


def _engagement_or_404(pk: int) -> Engagement:
    """Through the request's scope: not yours and missing look alike."""
    return get_object_or_404(_engagements(), pk=pk)


def _serves(user: User, engagement: Engagement) -> bool:
    return user.pk in (engagement.manager_id, engagement.deputy_id)


def _is_staff_of(user: User, engagement: Engagement) -> bool:
    """Admins, and the manager and deputy of the engagement."""
    return user.is_provider_admin or _serves(user, engagement)


def _require_admin(user: User) -> None:
    if not user.is_provider_admin:
        raise PermissionDenied


def _rename_fields(error: DomainError, names: dict[str, str]) -> DomainError:
    """Point a service's field names at the form's, so errors show beside their inputs."""
    error.fields = {names.get(key, key): value for key, value in error.fields.items()}
    return error


def _detail_url(engagement: Engagement, anchor: str = "") -> str:
    url = reverse("engagement_detail", args=[engagement.pk])
    return f"{url}#{anchor}" if anchor else url


# --- The list and the form --------------------------------------------------------------------


def _with_overage(queryset: QuerySet[Engagement]) -> QuerySet[Engagement]:
    return queryset.annotate(
        overage_open=Exists(
            OverageFlag.objects.filter(engagement=OuterRef("pk"), cleared_at__isnull=True)
        )
    )


@login_required
def engagement_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Admins: every engagement. Managers: those they manage or deputize. Customers: their
    organizations' engagements."""
    user: User = request.user
    engagements = list(_with_overage(_engagements()))
    statuses = Engagement.Status
    wanted = request.GET.get("status", "")
    if wanted in statuses.values:
        engagements = [engagement for engagement in engagements if engagement.status == wanted]
    contact_of: set[int] = set()
    if user.is_customer:
        contact_of = set(
            Contact.objects.filter(user=user, removed_at__isnull=True).values_list(
                "engagement_id", flat=True
            )
        )
    return render(
        request,
        "engagements/engagement_list.html",
        {
            "engagements": engagements,
            "contact_of": contact_of,
            "statuses": statuses.choices,
            "status_filter": wanted,
        },
    )


@admin_required
@require_http_methods(["GET", "POST"])
def engagement_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = EngagementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            engagement = services.engagement_create(acting_user=request.user, **form.values())
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Engagement %(name)s created.") % {"name": engagement})
            return redirect("engagement_detail", pk=engagement.pk)
    return render(request, "engagements/engagement_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def engagement_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    engagement = _engagement_or_404(pk)  # 404 before 403: reveal nothing
    _require_admin(request.user)
    form = EngagementForm(request.POST or None, engagement=engagement)
    if request.method == "POST" and form.is_valid():
        changes = {
            name: value
            for name, value in form.values().items()
            if getattr(engagement, name) != value
        }
        if not changes:
            messages.info(request, _("Nothing changed."))
            return redirect("engagement_detail", pk=engagement.pk)
        try:
            services.engagement_update(acting_user=request.user, engagement=engagement, **changes)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Engagement saved."))
            return redirect("engagement_detail", pk=engagement.pk)
    return render(
        request, "engagements/engagement_form.html", {"form": form, "engagement": engagement}
    )


# --- One engagement ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _named_country_holidays(code: str, years: tuple[int, ...], language: str) -> dict[date, str]:
    """Public holidays with their names, in the viewer's language where the calendar has it."""
    try:
        calendar = holidays_package.country_holidays(code, years=years)
        supported = getattr(calendar, "supported_languages", ()) or ()
        chosen = next(
            (tag for tag in supported if tag == language or tag.startswith(f"{language}_")), None
        )
        if chosen and chosen != getattr(calendar, "default_language", None):
            calendar = holidays_package.country_holidays(code, years=years, language=chosen)
    except (NotImplementedError, KeyError, ValueError):
        return {}
    return dict(calendar.items())


@dataclass(frozen=True)
class Holiday:
    date: date
    name: str
    added: EngagementHoliday | None = None  # set for the dates admins added


def upcoming_holidays(
    engagement: Engagement, added: Iterable[EngagementHoliday], days: int = UPCOMING_HOLIDAY_DAYS
) -> list[Holiday]:
    """Country holidays and added dates from today (engagement's zone) for `days` days."""
    today = engagement.local_today()
    last = today + timedelta(days=days)
    found: dict[date, Holiday] = {}
    if engagement.holiday_country:
        names = _named_country_holidays(
            engagement.holiday_country.upper(),
            tuple(sorted({today.year, last.year})),
            (get_language() or "en").split("-")[0],
        )
        for day, name in names.items():
            if today <= day <= last:
                found[day] = Holiday(date=day, name=name)
    for holiday in added:
        if today <= holiday.date <= last:
            found[holiday.date] = Holiday(
                date=holiday.date, name=holiday.name or _("Added holiday"), added=holiday
            )
    return sorted(found.values(), key=lambda holiday: holiday.date)


def business_hour_rows(engagement: Engagement) -> list[tuple[str, str | None, str | None]]:
    """(weekday, opens, closes) Monday first, in the engagement's local time; None when closed."""
    hours = parse_business_hours(engagement.business_hours)
    return [
        (
            str(WEEKDAYS[index]),
            day[0].strftime("%H:%M") if day else None,
            day[1].strftime("%H:%M") if day else None,
        )
        for index, day in enumerate(hours)
    ]


def _next_opening_or_none(calendar: BusinessCalendar, now: datetime) -> datetime | None:
    try:
        return next_opening(calendar, now)
    except ValueError:  # no business time within about three years
        return None


def _current_absence(absences: Iterable[Absence], user_id: int | None, now: datetime) -> Any:
    return next(
        (
            absence
            for absence in absences
            if absence.manager_id == user_id and absence.starts_at <= now < absence.ends_at
        ),
        None,
    )


def response_target_text(days: Decimal) -> str:
    """ "within 1 business day", "within 2 business days", "within 0.5 business days"."""
    if days == days.to_integral_value():
        count = int(days)
        return ngettext("within %(days)d business day", "within %(days)d business days", count) % {
            "days": count
        }
    return _("within %(days)s business days") % {"days": number_format(days.normalize())}


@login_required
def engagement_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    engagement = _engagement_or_404(pk)
    user: User = request.user
    now = timezone.now()
    is_admin = user.is_provider_admin
    is_staff = _is_staff_of(user, engagement)

    staff_ids = [engagement.manager_id, engagement.deputy_id]
    absences = list(
        Absence.objects.filter(
            manager_id__in=[staff for staff in staff_ids if staff],
            ends_at__gt=now,
            starts_at__lt=now + timedelta(days=UPCOMING_ABSENCE_DAYS),
        ).order_by("starts_at")
    )
    manager_absence = _current_absence(absences, engagement.manager_id, now)
    deputy_absence = _current_absence(absences, engagement.deputy_id, now)
    deputy_covers = manager_absence is not None and engagement.deputy_id is not None

    calendar = engagement_calendar(engagement)
    open_now = is_business_time(calendar, now)
    opens_at = None if open_now else _next_opening_or_none(calendar, now)
    added_holidays = list(
        EngagementHoliday.objects.filter(
            engagement=engagement, date__gte=engagement.local_today()
        ).order_by("date")
    )
    contacts = list(active_contacts(engagement).order_by("added_at", "id"))
    context: dict[str, Any] = {
        "engagement": engagement,
        "functions": list(ServiceFunction.objects.all()),
        "cadences": list(
            Cadence.objects.filter(plan=engagement.plan).select_related("deliverable")
        ),
        "absences": absences,
        "manager_absence": manager_absence,
        "deputy_absence": deputy_absence,
        "deputy_covers": deputy_covers,
        "responsible": engagement.deputy if deputy_covers else engagement.manager,
        "hour_rows": business_hour_rows(engagement),
        "open_now": open_now,
        "opens_at": opens_at,
        "holidays": upcoming_holidays(engagement, added_holidays),
        "added_holidays": added_holidays,
        "windows": list(
            AfterHoursRequest.objects.filter(
                engagement=engagement,
                status=AfterHoursRequest.Status.APPROVED,
                ends_at__gt=now,
            ).order_by("starts_at")
        ),
        "contacts": contacts,
        "is_contact": any(contact.user_id == user.pk for contact in contacts),
        "hours": hours_summary(engagement),
        "response_target": response_target_text(engagement.plan.response_target_business_days),
        "is_staff": is_staff,
    }
    if is_staff:
        context["pending_count"] = AfterHoursRequest.objects.filter(
            engagement=engagement, status=AfterHoursRequest.Status.PENDING
        ).count()
        context["recent_entries"] = list(
            TimeEntry.objects.filter(engagement=engagement).select_related("manager")[:10]
        )
        context["overage_flag"] = OverageFlag.objects.filter(
            engagement=engagement, cleared_at__isnull=True
        ).first()
    if is_admin:
        context["contact_form"] = ContactAddForm(engagement=engagement)
        context["holiday_form"] = HolidayForm()
    return render(request, "engagements/engagement_detail.html", context)


@login_required
@require_POST
def engagement_holiday_add(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    engagement = _engagement_or_404(pk)
    _require_admin(request.user)
    form = HolidayForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the holiday's date."))
    else:
        try:
            holiday = services.engagement_holiday_add(
                acting_user=request.user,
                engagement=engagement,
                day=form.cleaned_data["date"],
                name=form.cleaned_data["name"],
            )
        except DomainError as error:
            messages.error(request, error_text(error))
        else:
            messages.success(
                request, _("%(date)s added as a holiday.") % {"date": holiday.date.isoformat()}
            )
    return redirect(_detail_url(engagement, "holidays"))


@login_required
@require_POST
def engagement_holiday_delete(
    request: AuthenticatedHttpRequest, pk: int, holiday_pk: int
) -> HttpResponse:
    engagement = _engagement_or_404(pk)
    holiday = get_scoped_or_404(EngagementHoliday, pk=holiday_pk, engagement=engagement)
    _require_admin(request.user)
    services.engagement_holiday_remove(acting_user=request.user, holiday=holiday)
    messages.success(
        request, _("%(date)s is no longer a holiday.") % {"date": holiday.date.isoformat()}
    )
    return redirect(_detail_url(engagement, "holidays"))


@login_required
@require_POST
def engagement_contact_add(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    engagement = _engagement_or_404(pk)
    _require_admin(request.user)
    form = ContactAddForm(request.POST, engagement=engagement)
    if not form.is_valid():
        messages.error(request, _("Choose a person of the organization who is not a contact yet."))
        return redirect(_detail_url(engagement, "contacts"))
    person = form.cleaned_data["user"]
    try:
        services.contact_add(acting_user=request.user, engagement=engagement, user=person)
    except services.ContactLimitReached as error:
        active = Contact.objects.filter(engagement=engagement, removed_at__isnull=True).count()
        messages.error(
            request,
            _("%(count)d of %(limit)d named contacts. %(detail)s")
            % {"count": active, "limit": engagement.plan.max_contacts, "detail": error.detail},
        )
    except DomainError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(
            request, _("%(person)s is now a named contact.") % {"person": person.get_full_name()}
        )
    return redirect(_detail_url(engagement, "contacts"))


@login_required
@require_POST
def engagement_contact_remove(
    request: AuthenticatedHttpRequest, pk: int, contact_pk: int
) -> HttpResponse:
    engagement = _engagement_or_404(pk)
    contact = get_scoped_or_404(Contact, pk=contact_pk, engagement=engagement)
    _require_admin(request.user)
    services.contact_remove(acting_user=request.user, contact=contact)
    messages.success(
        request,
        _("%(person)s is no longer a named contact.") % {"person": contact.user.get_full_name()},
    )
    return redirect(_detail_url(engagement, "contacts"))


# --- After-hours support ----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def after_hours_list(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The engagement's requests; named contacts file new ones, the manager, the deputy and
    admins decide."""
    engagement = _engagement_or_404(pk)
    user: User = request.user
    may_request = user.is_customer and is_active_contact(engagement, user)
    if request.method == "POST" and not may_request:
        raise PermissionDenied
    form = (
        AfterHoursRequestForm(request.POST or None, engagement=engagement) if may_request else None
    )
    if form is not None and request.method == "POST" and form.is_valid():
        starts_at, ends_at = form.window()
        try:
            services.after_hours_request(
                acting_user=user,
                engagement=engagement,
                starts_at=starts_at,
                ends_at=ends_at,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            renamed = _rename_fields(error, {"starts_at": "starts", "ends_at": "ends"})
            apply_domain_error(form, renamed)
        else:
            messages.success(
                request,
                _("Your request was sent to the service manager, who will approve or decline it."),
            )
            return redirect("after_hours_list", pk=engagement.pk)
    now = timezone.now()
    earliest = None
    if may_request:
        calendar = engagement_calendar(engagement, with_after_hours=False)
        try:
            earliest = add_business_days(calendar, now, services.AFTER_HOURS_NOTICE_BUSINESS_DAYS)
        except ValueError:
            earliest = None
    requests = (
        AfterHoursRequest.objects.filter(engagement=engagement)
        .select_related("requested_by", "decided_by")
        .order_by("-starts_at", "-id")
    )
    page = Paginator(requests, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "engagements/after_hours_list.html",
        {
            "engagement": engagement,
            "page": page,
            "form": form,
            "may_request": may_request,
            "may_decide": _is_staff_of(user, engagement),
            "earliest": earliest,
            "notice_days": services.AFTER_HOURS_NOTICE_BUSINESS_DAYS,
            "open_hours": [
                f"{weekday} {opens}–{closes}"
                for weekday, opens, closes in business_hour_rows(engagement)
                if opens
            ],
        },
    )


@login_required
@require_POST
def after_hours_decide(request: AuthenticatedHttpRequest, pk: int, request_pk: int) -> HttpResponse:
    engagement = _engagement_or_404(pk)
    support_request = get_scoped_or_404(AfterHoursRequest, pk=request_pk, engagement=engagement)
    if not _is_staff_of(request.user, engagement):
        raise PermissionDenied
    form = AfterHoursDecideForm(request.POST)
    target = reverse("after_hours_list", args=[engagement.pk]) + f"#request-{support_request.pk}"
    if not form.is_valid():
        messages.error(request, _("Choose to approve or to decline."))
        return redirect(target)
    approve = form.cleaned_data["decision"] == "approve"
    try:
        services.after_hours_decide(
            acting_user=request.user,
            request=support_request,
            approve=approve,
            note=form.cleaned_data["note"],
        )
    except DomainError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, _("Request approved.") if approve else _("Request declined."))
    return redirect(target)


# --- Time entries -----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def time_entries(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Staff serving the engagement (and admins) log minutes; everyone who sees the engagement
    sees the weekly totals against the cap. Customers do not see the entries themselves."""
    engagement = _engagement_or_404(pk)
    user: User = request.user
    is_staff = _is_staff_of(user, engagement)
    if request.method == "POST" and not is_staff:
        raise PermissionDenied
    form = (
        TimeEntryForm(request.POST or None, engagement=engagement, acting_user=user)
        if is_staff
        else None
    )
    if form is not None and request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            entry = services.time_entry_log(
                acting_user=user,
                engagement=engagement,
                day=data["date"],
                minutes=data["duration"],
                activity=data["activity"],
                note=data["note"],
                manager=form.chosen_manager(),
            )
        except DomainError as error:
            apply_domain_error(form, _rename_fields(error, {"minutes": "duration"}))
        else:
            messages.success(
                request,
                _("%(minutes)d minutes logged for %(date)s.")
                % {"minutes": entry.minutes, "date": entry.date.isoformat()},
            )
            return redirect("time_entries", pk=engagement.pk)
    summary = hours_summary(engagement, weeks=TIME_ENTRY_WEEKS)
    current = week_start(engagement.local_today())
    weeks = [(current, summary.this_week_minutes, True)] + [
        (monday, minutes, False) for monday, minutes in reversed(summary.trailing_weeks)
    ]
    last_four = [minutes for _monday, minutes in summary.trailing_weeks[-4:]]
    context: dict[str, Any] = {
        "engagement": engagement,
        "form": form,
        "weeks": weeks,
        "cap_minutes": summary.cap_minutes,
        "average_minutes": round(sum(last_four) / len(last_four)) if last_four else 0,
        "is_staff": is_staff,
    }
    if is_staff:
        context["entries"] = list(
            TimeEntry.objects.filter(
                engagement=engagement, date__gte=current - timedelta(weeks=TIME_ENTRY_WEEKS)
            ).select_related("manager")
        )
    return render(request, "engagements/time_entries.html", context)


@login_required
@require_POST
def time_entry_delete(request: AuthenticatedHttpRequest, pk: int, entry_pk: int) -> HttpResponse:
    engagement = _engagement_or_404(pk)
    entry = get_scoped_or_404(TimeEntry, pk=entry_pk, engagement=engagement)
    user: User = request.user
    if not (user.is_provider_admin or entry.manager_id == user.pk):
        raise PermissionDenied
    services.time_entry_delete(acting_user=user, entry=entry)
    messages.success(request, _("Time entry removed."))
    return redirect("time_entries", pk=engagement.pk)


# --- Absences ---------------------------------------------------------------------------------


@provider_staff_required
@require_http_methods(["GET", "POST"])
def absence_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Current and upcoming absences of all provider staff, who cover for each other."""
    user: User = request.user
    form = AbsenceForm(request.POST or None, acting_user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.absence_record(
                acting_user=user,
                manager=data.get("manager") or user,
                kind=data["kind"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                note=data["note"],
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Absence recorded."))
            return redirect("absence_list")
    now = timezone.now()
    absences = list(
        Absence.objects.filter(ends_at__gt=now).select_related("manager").order_by("starts_at")
    )
    # Who covers what: the engagements (that the viewer may see) of the people who are away.
    covered: dict[int, list[Engagement]] = defaultdict(list)
    for engagement in Engagement.objects.filter(
        manager_id__in={absence.manager_id for absence in absences}
    ).select_related("organization", "plan", "deputy"):
        covered[engagement.manager_id].append(engagement)
    rows = [
        {
            "absence": absence,
            "current": absence.starts_at <= now,
            "engagements": covered.get(absence.manager_id, []),
            "mine": absence.manager_id == user.pk,
        }
        for absence in absences
    ]
    return render(request, "engagements/absence_list.html", {"rows": rows, "form": form})


@provider_staff_required
@require_POST
def absence_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    # Another manager's absence answers 404 exactly like a missing one (no id oracle).
    mine = (
        Absence.objects.all()
        if request.user.is_provider_admin
        else Absence.objects.filter(manager=request.user)
    )
    absence = get_object_or_404(mine, pk=pk)
    services.absence_delete(acting_user=request.user, absence=absence)
    messages.success(request, _("Absence removed."))
    return redirect("absence_list")


# --- Dashboard panels (portal.site.views.dashboard) -------------------------------------------


@dataclass
class EngagementCard:
    """What the dashboard shows about one engagement, computed for many in constant queries."""

    engagement: Engagement
    functions: list[ServiceFunction]
    hours: HoursSummary
    open_now: bool
    opens_at: datetime | None
    manager_absence: Absence | None = None
    deputy_absence: Absence | None = None
    windows: list[AfterHoursRequest] = field(default_factory=list)
    is_contact: bool = False

    @property
    def deputy_covers(self) -> bool:
        return self.manager_absence is not None and self.engagement.deputy_id is not None

    @property
    def responsible(self) -> User:
        return (
            cast("User", self.engagement.deputy) if self.deputy_covers else self.engagement.manager
        )

    @property
    def overage_open(self) -> bool:
        return bool(getattr(self.engagement, "overage_open", False))


def hours_summaries(engagements: Sequence[Engagement], weeks: int = 4) -> dict[int, HoursSummary]:
    """hours_summary for many engagements in one aggregate query (each in its own zone)."""
    if not engagements:
        return {}
    currents = {engagement.pk: week_start(engagement.local_today()) for engagement in engagements}
    first = min(currents.values()) - timedelta(weeks=weeks)
    rows = (
        TimeEntry.objects.filter(
            engagement_id__in=list(currents),
            date__gte=first,
            date__lt=max(currents.values()) + timedelta(days=7),
        )
        .values("engagement", "date")
        .annotate(total=Sum("minutes"))
        .order_by()
    )
    per_week: dict[tuple[int, date], int] = defaultdict(int)
    for row in rows:
        per_week[(row["engagement"], week_start(row["date"]))] += row["total"]
    summaries = {}
    for engagement in engagements:
        current = currents[engagement.pk]
        start = current - timedelta(weeks=weeks)
        summaries[engagement.pk] = HoursSummary(
            this_week_minutes=per_week.get((engagement.pk, current), 0),
            trailing_weeks=[
                (monday, per_week.get((engagement.pk, monday), 0))
                for monday in (start + timedelta(weeks=n) for n in range(weeks))
            ],
            cap_minutes=int(engagement.plan.weekly_hours_cap * 60),
        )
    return summaries


def _prefetched_calendar(
    engagement: WithAnnotations[Engagement, _UpcomingWindows], now: datetime
) -> BusinessCalendar:
    """The engagement's calendar from now on, from prefetched added holidays and windows."""
    today = engagement.local_today(now)
    days: set[date] = set()
    if engagement.holiday_country:
        with contextlib.suppress(ValueError):  # validated on save; never fail a dashboard
            days.update(country_holidays(engagement.holiday_country, (today.year, today.year + 1)))
    days.update(holiday.date for holiday in engagement.extra_holidays.all())
    return BusinessCalendar(
        zone=engagement.zone,
        hours=parse_business_hours(engagement.business_hours),
        holidays=frozenset(days),
        extra_windows=tuple(
            (window.starts_at, window.ends_at) for window in engagement.upcoming_windows
        ),
    )


def engagement_cards(
    queryset: QuerySet[Engagement], *, user: User, now: datetime | None = None
) -> list[EngagementCard]:
    """Cards for the engagements of `queryset` (already scoped) that are not expired.

    Constant queries: the engagements with their prefetched added holidays and approved
    windows, the plans' functions, current absences, the week totals and the user's contacts.
    """
    now = now or timezone.now()
    yesterday = (now - timedelta(days=1)).date()
    engagements = [
        engagement
        for engagement in _with_overage(_engagements())
        .filter(pk__in=queryset.values("pk"), end_date__gte=yesterday)
        .prefetch_related(
            Prefetch(
                "extra_holidays",
                queryset=EngagementHoliday.objects.filter(date__gte=yesterday),
            ),
            Prefetch(
                "after_hours_requests",
                queryset=AfterHoursRequest.objects.filter(
                    status=AfterHoursRequest.Status.APPROVED, ends_at__gt=now
                ).order_by("starts_at"),
                to_attr="upcoming_windows",
            ),
        )
        if engagement.status != Engagement.Status.EXPIRED
    ]
    if not engagements:
        return []
    prime_function_codes(engagements)  # the entitlement gate's per-plan cache, one query
    functions = list(ServiceFunction.objects.all())
    staff_ids = {engagement.manager_id for engagement in engagements} | {
        engagement.deputy_id for engagement in engagements if engagement.deputy_id
    }
    absences = list(
        Absence.objects.filter(manager_id__in=staff_ids, starts_at__lte=now, ends_at__gt=now)
    )
    contact_of: set[int] = set()
    if user.is_customer:
        contact_of = set(
            Contact.objects.filter(
                user=user,
                removed_at__isnull=True,
                engagement_id__in=[engagement.pk for engagement in engagements],
            ).values_list("engagement_id", flat=True)
        )
    summaries = hours_summaries(engagements)
    cards = []
    for engagement in engagements:
        calendar = _prefetched_calendar(engagement, now)
        open_now = is_business_time(calendar, now)
        cards.append(
            EngagementCard(
                engagement=engagement,
                functions=[
                    function for function in functions if is_entitled(engagement, function.code)
                ],
                hours=summaries[engagement.pk],
                open_now=open_now,
                opens_at=None if open_now else _next_opening_or_none(calendar, now),
                manager_absence=_current_absence(absences, engagement.manager_id, now),
                deputy_absence=_current_absence(absences, engagement.deputy_id, now),
                windows=list(engagement.upcoming_windows),
                is_contact=engagement.pk in contact_of,
            )
        )
    return cards


def served_by(user: User) -> QuerySet[Engagement]:
    return Engagement.objects.filter(Q(manager=user) | Q(deputy=user))


def pending_after_hours(queryset: QuerySet[AfterHoursRequest]) -> list[AfterHoursRequest]:
    return list(
        queryset.filter(status=AfterHoursRequest.Status.PENDING)
        .select_related("engagement__organization", "engagement__plan", "requested_by")
        .order_by("starts_at")[:20]
    )


def admin_panel(now: datetime | None = None) -> dict[str, Any]:
    """What needs an admin's attention: open overage flags, engagements without a deputy,
    pending after-hours requests."""
    now = now or timezone.now()
    flags = OverageFlag.objects.filter(cleared_at__isnull=True).select_related(
        "engagement__organization", "engagement__plan"
    )
    without_deputy = Engagement.objects.filter(
        deputy__isnull=True, end_date__gte=(now - timedelta(days=1)).date()
    ).select_related("organization", "plan", "manager")
    return {
        "overage_flags": list(flags[:20]),
        "overage_count": flags.count(),
        "without_deputy": list(without_deputy[:20]),
        "without_deputy_count": without_deputy.count(),
        "active_engagement_count": Engagement.objects.filter(
            start_date__lte=now.date(), end_date__gte=now.date()
        ).count(),
        "pending_requests": pending_after_hours(AfterHoursRequest.objects.all()),
    }
