"""Engagements, the contracts between the vendor and a customer organization: pages."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict
from urllib.parse import urlencode

import holidays as holidays_package
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from engagements.absences.models import Absence
from engagements.afterhours.models import AfterHoursRequest
from engagements.business_time import (
    is_business_time,
)
from engagements.catalog.models import Cadence, ServiceFunction
from engagements.contacts.forms import ContactAddForm
from engagements.contacts.models import Contact
from engagements.contacts.selectors import active_contacts
from engagements.contracts import services
from engagements.contracts.forms import EngagementForm, HolidayForm
from engagements.contracts.models import (
    WEEKDAYS,
    Engagement,
    EngagementHoliday,
    parse_business_hours,
)
from engagements.contracts.selectors import (
    _current_absence,
    _engagements,
    _next_opening_or_none,
    _with_overage,
    with_status,
)
from engagements.selectors import engagement_calendar, serves
from engagements.time.models import OverageFlag, TimeEntry
from engagements.time.selectors import hours_summary
from portal.accounts.models import User
from portal.errors import DomainError
from portal.http import AuthenticatedHttpRequest
from portal.pages import (
    admin_required,
    apply_domain_error,
    flash_error,
    get_scoped_or_404,
    require_admin,
)

if TYPE_CHECKING:

    class _UpcomingWindows(TypedDict):  # Prefetch(to_attr=) of the dashboard cards
        upcoming_windows: list[AfterHoursRequest]


UPCOMING_HOLIDAY_DAYS = 60
ENGAGEMENT_PAGE_SIZE = 50


UPCOMING_ABSENCE_DAYS = 30


def engagement_or_404(pk: int) -> Engagement:
    """Through the request's scope: not yours and missing look alike."""
    return get_object_or_404(_engagements(), pk=pk)


def engagement_url(engagement: Engagement, anchor: str = "") -> str:
    url = reverse("engagement_detail", args=[engagement.pk])
    return f"{url}#{anchor}" if anchor else url


@login_required
def engagement_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Admins: every engagement. Managers: those they manage or deputize. Customers: their
    organizations' engagements."""
    user: User = request.user
    engagements = _with_overage(_engagements())
    statuses = Engagement.Status
    wanted = request.GET.get("status", "")
    if wanted in statuses.values:
        engagements = with_status(engagements, wanted, timezone.now())
    else:
        wanted = ""
    # A page at a time: an admin's list holds every engagement of the provider (issue 17).
    page = Paginator(engagements, ENGAGEMENT_PAGE_SIZE).get_page(request.GET.get("page"))
    contact_of: set[int] = set()
    if user.is_customer:
        contact_of = set(
            Contact.objects.filter(user=user, removed_at__isnull=True).values_list(
                "engagement_id", flat=True
            )
        )
    return render(
        request,
        "engagements/contracts/engagement_list.html",
        {
            "page": page,
            "pager_query": urlencode({"status": wanted}) if wanted else "",
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
    return render(request, "engagements/contracts/engagement_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def engagement_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    engagement = engagement_or_404(pk)  # 404 before 403: reveal nothing
    require_admin(request.user)
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
        request,
        "engagements/contracts/engagement_form.html",
        {"form": form, "engagement": engagement},
    )


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
    engagement = engagement_or_404(pk)
    user: User = request.user
    now = timezone.now()
    is_admin = user.is_provider_admin
    is_staff = serves(user, engagement)

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
    return render(request, "engagements/contracts/engagement_detail.html", context)


@login_required
@require_POST
def engagement_holiday_add(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    engagement = engagement_or_404(pk)
    require_admin(request.user)
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
            flash_error(request, error)
        else:
            messages.success(
                request, _("%(date)s added as a holiday.") % {"date": holiday.date.isoformat()}
            )
    return redirect(engagement_url(engagement, "holidays"))


@login_required
@require_POST
def engagement_holiday_delete(
    request: AuthenticatedHttpRequest, pk: int, holiday_pk: int
) -> HttpResponse:
    engagement = engagement_or_404(pk)
    holiday = get_scoped_or_404(EngagementHoliday, pk=holiday_pk, engagement=engagement)
    require_admin(request.user)
    services.engagement_holiday_remove(acting_user=request.user, holiday=holiday)
    messages.success(
        request, _("%(date)s is no longer a holiday.") % {"date": holiday.date.isoformat()}
    )
    return redirect(engagement_url(engagement, "holidays"))
