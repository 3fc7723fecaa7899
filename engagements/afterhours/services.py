"""After-hours support requests: writes."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from engagements.afterhours.models import AfterHoursRequest
from engagements.business_time import add_business_days, business_time_between
from engagements.contacts.selectors import is_active_contact
from engagements.contracts.models import Engagement
from engagements.selectors import engagement_calendar, require_in_term
from portal.accounts.models import User
from portal.audit import audit
from portal.errors import Conflict, DomainError, InvalidInput
from portal.notifications import notify

AFTER_HOURS_NOTICE_BUSINESS_DAYS = 2


@transaction.atomic
def after_hours_request(
    *,
    acting_user: User,
    engagement: Engagement,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    now: datetime | None = None,
) -> AfterHoursRequest:
    """A named contact asks for coverage outside business hours, 2 business days ahead."""
    now = now or timezone.now()
    if not is_active_contact(engagement, acting_user):
        raise DomainError(
            _("Only the engagement's named contacts can request after-hours support.")
        )
    require_in_term(acting_user, engagement)
    errors: dict[str, list[str]] = {}
    if not reason.strip():
        errors["reason"] = [_("Say what the coverage is for.")]
    if ends_at <= starts_at:
        errors["ends_at"] = [_("The window must end after it starts.")]
    elif ends_at - starts_at > timedelta(hours=24):
        errors["ends_at"] = [_("A window is at most 24 hours; file one request per day.")]
    else:
        calendar = engagement_calendar(engagement, with_after_hours=False)
        earliest = add_business_days(calendar, now, AFTER_HOURS_NOTICE_BUSINESS_DAYS)
        if starts_at < earliest:
            local = earliest.astimezone(engagement.zone)
            errors["starts_at"] = [
                _("Requests need %(days)d business days' notice: the earliest start is %(when)s.")
                % {
                    "days": AFTER_HOURS_NOTICE_BUSINESS_DAYS,
                    "when": f"{date_format(local, 'DATETIME_FORMAT')} {local.tzname()}",
                }
            ]
        elif business_time_between(calendar, starts_at, ends_at) >= ends_at - starts_at:
            errors["starts_at"] = [_("This window is inside business hours already.")]
    if errors:
        raise InvalidInput(fields=errors)
    request = AfterHoursRequest.objects.create(
        engagement=engagement,
        requested_by=acting_user,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason.strip(),
    )
    staff = [user for user in (engagement.manager, engagement.deputy) if user is not None]
    notify(
        users=staff,
        kind="after_hours.requested",
        key=f"after-hours:{request.pk}:requested",
        render=lambda: (
            _("After-hours support requested for %(engagement)s") % {"engagement": engagement},
            request.reason,
        ),
        url=f"/engagements/{engagement.pk}/after-hours/",
        engagement=engagement,
    )
    return request


@transaction.atomic
def after_hours_decide(
    *, acting_user: User, request: AfterHoursRequest, approve: bool, note: str = ""
) -> AfterHoursRequest:
    """The manager, the deputy or an admin approves or declines a pending request."""
    request = (
        AfterHoursRequest.objects.select_for_update(of=("self",))
        .select_related("engagement")
        .get(pk=request.pk)
    )
    engagement = request.engagement
    if not (
        acting_user.is_provider_admin
        or acting_user.pk in (engagement.manager_id, engagement.deputy_id)
    ):
        raise DomainError(_("Only the engagement's manager or deputy can decide."))
    if request.status != AfterHoursRequest.Status.PENDING:
        raise Conflict(_("This request was already decided."))
    if not approve and not note.strip():
        raise InvalidInput(fields={"decision_note": [_("Say why the request is declined.")]})
    request.status = (
        AfterHoursRequest.Status.APPROVED if approve else AfterHoursRequest.Status.DECLINED
    )
    request.decided_by = acting_user
    request.decided_at = timezone.now()
    request.decision_note = note.strip()
    request.save(
        update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"]
    )
    audit(
        actor=acting_user,
        action=f"after_hours.{request.status}",
        instance=request,
        organization_id=engagement.organization_id,
    )
    notify(
        users=[request.requested_by],
        kind="after_hours.decided",
        key=f"after-hours:{request.pk}:decided",
        render=lambda: (
            _("Your after-hours request was approved")
            if approve
            else _("Your after-hours request was declined"),
            request.decision_note,
        ),
        url=f"/engagements/{engagement.pk}/after-hours/",
        engagement=engagement,
    )
    return request
