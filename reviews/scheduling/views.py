"""Sessions of the cadence (calls, reviews): scheduling, completion, action items: pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import django_filters
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from engagements import selectors as engagements_selectors
from engagements.contacts.selectors import is_active_contact
from engagements.contracts.models import Engagement
from portal.accounts.models import User
from portal.errors import DomainError, NotEntitled
from portal.http import AuthenticatedHttpRequest
from portal.pages import apply_domain_error, flash_error
from reviews.scheduling import services as scheduling_services
from reviews.scheduling.filters import OccurrenceFilter
from reviews.scheduling.forms import (
    ActionItemFormSet,
    CancelForm,
    CompleteForm,
    RequestForm,
    requestable_deliverables,
)
from reviews.scheduling.models import WEEKLY_CALL, ActionItem, Occurrence
from reviews.scheduling.selectors import (
    action_items_of,
    contact_engagements,
    deliverable_labels,
    engagement_people,
    is_requested,
    labelled,
    occurrences_in_scope,
    requestable_engagements,
    with_state,
)

UPCOMING_DAYS = 90


UPCOMING_LIMIT = 100


PAGE_SIZE = 50


def _occurrence_or_404(pk: int) -> Occurrence:
    """Through the request's scope: not yours and missing look alike."""
    return get_object_or_404(
        occurrences_in_scope().select_related(
            "engagement__manager", "engagement__deputy", "requested_by", "completed_by", "host"
        ),
        pk=pk,
    )


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
        request.GET or None, queryset=occurrences_in_scope(), request=request, labels=labels
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
    with_state(labelled(upcoming[:UPCOMING_LIMIT], labels), now)
    page.object_list = with_state(labelled(list(page.object_list), labels), now)
    user: User = request.user
    return render(
        request,
        "reviews/scheduling/occurrence_list.html",
        {
            "filterset": filterset,
            "filtering": any(request.GET.get(name) for name in filterset.filters),
            "upcoming": upcoming[:UPCOMING_LIMIT],
            "upcoming_more": len(upcoming) > UPCOMING_LIMIT,
            "upcoming_days": UPCOMING_DAYS,
            "page": page,
            "query": _query_without_page(request),
            "staff": user.is_provider_staff,
            "may_request": user.is_provider_staff or contact_engagements(user).exists(),
        },
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
    staff = engagements_selectors.serves(user, engagement)
    contact = not staff and user.is_customer and is_active_contact(engagement, user)
    labels = deliverable_labels()
    with_state(labelled([occurrence], labels), now)
    items = action_items_of(occurrence)
    for item in items:
        item.may_toggle = staff or contact or item.owner_id == user.pk
    scheduled = occurrence.status == Occurrence.Status.SCHEDULED
    return render(
        request,
        "reviews/scheduling/occurrence_detail.html",
        {
            "occurrence": occurrence,
            "engagement": engagement,
            "attendees": list(occurrence.attendees.order_by("name", "email")),
            "items": items,
            "staff": staff,
            "requested": is_requested(occurrence),
            # Not before it starts: until then it can only be cancelled.
            "may_complete": staff
            and occurrence.status in (Occurrence.Status.SCHEDULED, Occurrence.Status.MISSED)
            and occurrence.scheduled_start <= now,
            "may_cancel": scheduled and (staff or occurrence.requested_by_id == user.pk),
            "cancel_form": CancelForm(),
            "allowed_methods": scheduling_services.allowed_methods(
                engagement, occurrence.deliverable
            ),
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
    if not engagements_selectors.serves(user, engagement):
        raise PermissionDenied
    if occurrence.status in (Occurrence.Status.COMPLETED, Occurrence.Status.CANCELLED):
        messages.info(
            request,
            _("This session is already %(status)s.")
            % {"status": occurrence.get_status_display().lower()},
        )
        return redirect("occurrence_detail", pk=occurrence.pk)
    people = engagement_people(engagement)
    allowed = scheduling_services.allowed_methods(engagement, occurrence.deliverable)
    data = request.POST if request.method == "POST" else None
    form = CompleteForm(data, allowed_methods=allowed, people=people)
    items = ActionItemFormSet(data, prefix="items", form_kwargs={"people": people})
    not_started = None
    if request.method == "GET" and timezone.now() < occurrence.scheduled_start:
        # Say so at once; the service refuses the POST all the same.
        not_started = scheduling_services.session_not_started(occurrence).detail
    if request.method == "POST" and form.is_valid() and items.is_valid():
        rows = [row for row in items.forms if not row.is_blank]
        try:
            scheduling_services.occurrence_complete(
                acting_user=user,
                occurrence=occurrence,
                method=form.cleaned_data["method"],
                minutes=form.cleaned_data["minutes"],
                attendees=form.chosen_attendees(),
                other_attendees=form.cleaned_data["other_attendees"],
                action_items=[row.item() for row in rows],
            )
        except DomainError as error:
            _show_complete_error(form, rows, error)
        else:
            messages.success(request, _("Session recorded as completed."))
            return redirect("occurrence_detail", pk=occurrence.pk)
    labels = deliverable_labels()
    labelled([occurrence], labels)
    return render(
        request,
        "reviews/scheduling/occurrence_complete.html",
        {
            "occurrence": occurrence,
            "engagement": engagement,
            "form": form,
            "items": items,
            "not_started": not_started,
        },
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
        apply_domain_error(form, error, refusal_page=True)


@login_required
@require_POST
def occurrence_cancel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The engagement's staff, or whoever requested the session, cancel it."""
    occurrence = _occurrence_or_404(pk)
    form = CancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        scheduling_services.occurrence_cancel(
            acting_user=request.user, occurrence=occurrence, reason=reason
        )
    except DomainError as error:
        flash_error(request, error, refusal_page=True)
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
    item = scheduling_services.action_item_set_done(
        acting_user=request.user, item=item, done=not item.done
    )
    if request.headers.get("HX-Request") == "true":
        item.may_toggle = True
        return render(request, "reviews/scheduling/_action_item.html", {"item": item})
    return redirect(reverse("occurrence_detail", args=[item.occurrence_id]) + f"#item-{item.pk}")


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
    after_hours_url = ""  # offered when the time asked for is outside business time
    if request.method == "POST":
        form = RequestForm(request.POST, **kwargs)
        if form.is_valid():
            data = form.cleaned_data
            try:
                occurrence = scheduling_services.occurrence_request(
                    acting_user=user,
                    engagement=data["engagement"],
                    deliverable=data["deliverable"],
                    method=data["method"],
                    preferred_start=data["preferred_start"],
                    note=data["note"],
                )
            except NotEntitled as error:
                form.add_error("deliverable", error.detail)
            except scheduling_services.SessionTimeRefused as error:
                apply_domain_error(form, error)
                after_hours_url = error.after_hours_url
            except DomainError as error:
                apply_domain_error(form, error, refusal_page=True)
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
        "reviews/scheduling/request.html",
        {
            "form": form,
            "has_engagements": bool(engagement_list),
            "after_hours_url": after_hours_url,
        },
    )
