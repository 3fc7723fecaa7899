"""Operations on occurrences: completing them, requesting "as needed" sessions, action items.

Completing a service review freezes its report (reviews.reports.figures.build_report) as a snapshot.
A session is completed only once it has started (`session_not_started`); before that it can only
be cancelled (and a new one requested).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from engagements.catalog.models import Cadence, Frequency
from engagements.contacts.selectors import is_active_contact
from engagements.contracts.models import Engagement
from engagements.entitlements import FunctionCode, require_entitlement
from engagements.selectors import serves
from portal.accounts.models import User
from portal.audit import audit
from portal.errors import Conflict, InvalidInput, NotAllowed
from portal.notifications import notify
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
    allows for that deliverable."""
    if not serves(acting_user, engagement) and not is_active_contact(engagement, acting_user):
        raise NotAllowed(_("Only named contacts and the engagement's staff can request sessions."))
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
    if errors:
        raise InvalidInput(fields=errors)
    occurrence = Occurrence.objects.create(
        engagement=engagement,
        deliverable=deliverable,
        period=f"{Frequency.AS_NEEDED}:{uuid.uuid4().hex[:12]}",
        scheduled_start=preferred_start,
        method=method,
        requested_by=acting_user,
        request_note=note,
    )
    notify(
        users=[engagement.manager, engagement.deputy],
        kind="occurrence.requested",
        key=f"occurrence:{occurrence.pk}:requested",
        url=f"/reviews/{occurrence.pk}/",
        engagement=engagement,
        render=lambda: (
            _("Session requested: %(what)s for %(engagement)s")
            % {"what": deliverable, "engagement": engagement},
            note,
        ),
    )
    return occurrence


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
    occurrence.save(update_fields=["status", "request_note"])
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
    item.save(update_fields=["done", "done_at"])
    return item
