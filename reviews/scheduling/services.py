"""Operations on occurrences: completing them, requesting "as needed" sessions, action items.

Completing a service review freezes its report (reviews.reports.figures.build_report) as a snapshot.
A session is completed only once it has started (`session_not_started`); before that it can only
be cancelled (and a new one requested).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from engagements.absences.selectors import session_host
from engagements.business_time import business_time_between
from engagements.catalog.models import Cadence, Frequency, ServiceFunction
from engagements.contacts.selectors import is_active_contact
from engagements.contracts.models import Engagement
from engagements.entitlements import FunctionCode, require_entitlement
from engagements.selectors import engagement_calendar, require_in_term, serves
from portal.accounts.models import User
from portal.audit import audit
from portal.errors import Conflict, InvalidInput, NotAllowed
from portal.notifications import notify
from portal.webhooks.events import emit
from reviews.reports.models import ReportSnapshot
from reviews.scheduling.models import WEEKLY_CALL, ActionItem, Occurrence

WEEKLY_CALL_METHODS = ["video", "phone", "in_person"]


class SessionNotStarted(Conflict):
    """Completing a session before its start: what is recorded has not happened yet."""

    code = "session_not_started"


def session_not_started(occurrence: Occurrence) -> SessionNotStarted:
    """The refusal, naming the start in the engagement's zone."""
    engagement = occurrence.engagement
    local = occurrence.scheduled_start.astimezone(engagement.zone)
    return SessionNotStarted(
        _(
            "This session starts at %(start)s (%(zone)s). Record it once it has started; "
            "before then it can only be cancelled."
        )
        % {"start": f"{local:%Y-%m-%d %H:%M}", "zone": engagement.timezone}
    )


def allowed_methods(engagement: Engagement, deliverable: str) -> list[str]:
    """Methods the engagement's plan allows for a deliverable (the weekly call: any live one)."""
    if deliverable in (WEEKLY_CALL, FunctionCode.ENVIRONMENT_CONSULTING):
        # Neither has a Table 2 cadence: both are live sessions.
        return list(WEEKLY_CALL_METHODS)
    methods = (
        Cadence.objects.filter(plan_id=engagement.plan_id, deliverable__code=deliverable)
        .values_list("methods", flat=True)
        .first()
    )
    return list(methods or [])


@transaction.atomic
def occurrence_complete(
    *,
    acting_user: User,
    occurrence: Occurrence,
    method: str,
    minutes: str,
    attendees: list[User] | None = None,
    other_attendees: str = "",
    action_items: list[dict] | None = None,
    completed_at: datetime | None = None,
) -> Occurrence:
    """The manager records what happened, once the session has started (before: 409
    `session_not_started`). A completed service review's report is frozen."""
    occurrence = (
        Occurrence.objects.select_for_update(of=("self",))
        .select_related("engagement__plan")
        .get(pk=occurrence.pk)
    )
    engagement = occurrence.engagement
    if not serves(acting_user, engagement):
        raise NotAllowed(_("Only the engagement's manager, deputy or an admin completes it."))
    if occurrence.status in (Occurrence.Status.COMPLETED, Occurrence.Status.CANCELLED):
        raise Conflict(
            _("This occurrence is already %(status)s.")
            % {"status": occurrence.get_status_display().lower()}
        )
    now = timezone.now()
    if now < occurrence.scheduled_start:
        raise session_not_started(occurrence)
    errors: dict[str, list[str]] = {}
    allowed = allowed_methods(engagement, occurrence.deliverable)
    if method not in allowed:
        errors["method"] = [
            _("The plan delivers this by: %(methods)s.") % {"methods": ", ".join(allowed) or "-"}
        ]
    if not minutes.strip():
        errors["minutes"] = [_("Record the minutes.")]
    completed_at = completed_at or now
    if completed_at > now:
        errors["completed_at"] = [_("The completion time cannot be in the future.")]
    elif completed_at < occurrence.scheduled_start:
        errors["completed_at"] = [_("The completion time cannot be before the session starts.")]
    valid_people = {engagement.manager_id, engagement.deputy_id} | set(
        engagement.contacts.filter(removed_at__isnull=True).values_list("user_id", flat=True)
    )
    for attendee in attendees or []:
        if attendee.pk not in valid_people and not attendee.is_provider_staff:
            errors["attendees"] = [_("Attendees are the engagement's contacts and staff.")]
    items = []
    for index, item in enumerate(action_items or []):
        description = str(item.get("description", "")).strip()
        if not description:
            errors[f"action_items.{index}"] = [_("Describe the action.")]
            continue
        due = item.get("due_date")
        if due is not None and not isinstance(due, date):
            errors[f"action_items.{index}"] = [_("Give the due date as a date.")]
            continue
        items.append(
            ActionItem(
                occurrence=occurrence,
                description=description[:300],
                owner=item.get("owner"),
                owner_name=str(item.get("owner_name", ""))[:120],
                due_date=due,
            )
        )
    if errors:
        raise InvalidInput(fields=errors)
    occurrence.method = method
    occurrence.minutes = minutes.strip()
    occurrence.other_attendees = other_attendees
    occurrence.status = Occurrence.Status.COMPLETED
    occurrence.completed_at = completed_at
    occurrence.completed_by = acting_user
    occurrence.save()
    occurrence.attendees.set(attendees or [])
    ActionItem.objects.bulk_create(items)
    if occurrence.is_review:
        from reviews.reports.figures import build_report

        ReportSnapshot.objects.create(
            occurrence=occurrence, data=build_report(occurrence, as_of=completed_at)
        )
    audit(
        actor=acting_user,
        action="occurrence.complete",
        instance=occurrence,
        organization_id=engagement.organization_id,
    )
    emit("review.completed", occurrence)
    return occurrence


@transaction.atomic
def occurrence_request(
    *,
    acting_user: User,
    engagement: Engagement,
    deliverable: str,
    method: str,
    preferred_start: datetime,
    note: str = "",
) -> Occurrence:
    """A PoC or the manager asks for an "as needed" session; the method must be one the plan
    allows for that deliverable. A customer's session lies wholly in business time (business
    hours on a business day, or an approved after-hours window) and in the engagement's term;
    it is hosted by the manager, or by the deputy while the manager is away."""
    staff = serves(acting_user, engagement)
    if not staff and not is_active_contact(engagement, acting_user):
        raise NotAllowed(_("Only named contacts and the engagement's staff can request sessions."))
    require_in_term(acting_user, engagement)
    require_entitlement(engagement, deliverable)
    cadence = Cadence.objects.filter(
        plan_id=engagement.plan_id, deliverable__code=deliverable
    ).first()
    errors: dict[str, list[str]] = {}
    if cadence is None or cadence.frequency != Frequency.AS_NEEDED:
        errors["deliverable"] = [_("This is not an “as needed” deliverable of the plan.")]
    elif method not in cadence.methods:
        errors["method"] = [
            _("The plan delivers this by: %(methods)s.") % {"methods": ", ".join(cadence.methods)}
        ]
    if preferred_start <= timezone.now():
        errors["preferred_start"] = [_("Choose a time in the future.")]
    elif engagement.local_today(preferred_start) > engagement.end_date:
        errors["preferred_start"] = [
            _("The engagement ends on %(date)s; choose a time within its term.")
            % {"date": date_format(engagement.end_date, "DATE_FORMAT")}
        ]
    if errors:
        raise InvalidInput(fields=errors)
    ends_at = preferred_start + timedelta(minutes=REQUESTED_SESSION_MINUTES)
    if not staff:  # the vendor's staff may place a session outside hours (its discretion)
        _require_business_time(engagement, preferred_start, ends_at)
    host = session_host(engagement, preferred_start, ends_at)
    if host is None:
        raise ManagerAbsent(
            _(
                "Your service manager is away then and the deputy cannot cover; choose "
                "another time."
            ),
            fields={"preferred_start": [_("Your service manager is away at this time.")]},
        )
    occurrence = Occurrence.objects.create(
        engagement=engagement,
        deliverable=deliverable,
        period=f"{Frequency.AS_NEEDED}:{uuid.uuid4().hex[:12]}",
        scheduled_start=preferred_start,
        duration_minutes=REQUESTED_SESSION_MINUTES,
        method=method,
        requested_by=acting_user,
        request_note=note,
        host=host,
    )
    function = ServiceFunction.objects.filter(code=deliverable).first()
    notify(
        users=[engagement.manager, engagement.deputy],
        kind="occurrence.requested",
        key=f"occurrence:{occurrence.pk}:requested",
        url=f"/reviews/{occurrence.pk}/",
        engagement=engagement,
        render=lambda: (
            _("Session requested: %(what)s for %(engagement)s")
            % {"what": function or deliverable, "engagement": engagement},
            note,
        ),
    )
    emit("review.scheduled", occurrence)
    return occurrence


REQUESTED_SESSION_MINUTES = 60


class SessionTimeRefused(InvalidInput):
    """A requested session's time is refused (400, a code of its own per reason). Those outside
    business time can be covered by an after-hours request: `after_hours_url` says where."""

    after_hours_url = ""


class OutsideBusinessHours(SessionTimeRefused):
    code = "outside_business_hours"


class NotABusinessDay(SessionTimeRefused):
    code = "not_a_business_day"


class OnAHoliday(SessionTimeRefused):
    code = "holiday"


class ManagerAbsent(SessionTimeRefused):
    code = "manager_absent"


def _require_business_time(engagement: Engagement, starts_at: datetime, ends_at: datetime) -> None:
    """Refuse a session not wholly inside business time (hours on business days, or approved
    after-hours windows), naming why: a holiday, a closed weekday, or outside the hours."""
    calendar = engagement_calendar(engagement)
    if business_time_between(calendar, starts_at, ends_at) >= ends_at - starts_at:
        return
    local = starts_at.astimezone(engagement.zone)
    day = date_format(local.date(), "DATE_FORMAT")
    hours = calendar.hours[local.weekday()]
    error: type[SessionTimeRefused]
    if local.date() in calendar.holidays:
        error = OnAHoliday
        reason = _("%(day)s is a holiday of the engagement's calendar.") % {"day": day}
    elif hours is None:
        error = NotABusinessDay
        reason = _("%(day)s is not a business day of the engagement.") % {"day": day}
    else:
        error = OutsideBusinessHours
        reason = _(
            "The whole session must lie within business hours, %(opens)s–%(closes)s on %(day)s."
        ) % {"opens": hours[0].strftime("%H:%M"), "closes": hours[1].strftime("%H:%M"), "day": day}
    url = reverse("after_hours_list", args=[engagement.pk])
    refusal = error(
        " ".join(
            [
                reason,
                _(
                    "Outside business hours, sessions need an approved after-hours request "
                    "first: %(url)s"
                )
                % {"url": url},
            ]
        ),
        fields={"preferred_start": [reason]},
    )
    refusal.after_hours_url = url
    raise refusal


@transaction.atomic
def occurrence_cancel(*, acting_user: User, occurrence: Occurrence, reason: str = "") -> Occurrence:
    occurrence = (
        Occurrence.objects.select_for_update(of=("self",))
        .select_related("engagement")
        .get(pk=occurrence.pk)
    )
    if (
        not serves(acting_user, occurrence.engagement)
        and occurrence.requested_by_id != acting_user.pk
    ):
        raise NotAllowed(_("You cannot cancel this occurrence."))
    if occurrence.status != Occurrence.Status.SCHEDULED:
        raise Conflict(_("Only scheduled occurrences can be cancelled."))
    occurrence.status = Occurrence.Status.CANCELLED
    occurrence.request_note = (occurrence.request_note + "\n" + reason).strip()
    occurrence.save(update_fields=["status", "request_note", "updated_at"])
    return occurrence


@transaction.atomic
def action_item_set_done(*, acting_user: User, item: ActionItem, done: bool) -> ActionItem:
    engagement = item.occurrence.engagement
    if (
        not serves(acting_user, engagement)
        and item.owner_id != acting_user.pk
        and not (is_active_contact(engagement, acting_user))
    ):
        raise NotAllowed(_("You cannot change this action item."))
    item.done = done
    item.done_at = timezone.now() if done else None
    item.save(update_fields=["done", "done_at", "updated_at"])
    return item
