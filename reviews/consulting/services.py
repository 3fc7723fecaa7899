"""Environment consulting requests: writes."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from engagements.catalog.models import Frequency, Method
from engagements.contacts.selectors import is_active_contact
from engagements.contracts.models import Engagement
from engagements.entitlements import FunctionCode, require_entitlement
from engagements.selectors import require_staff
from portal.accounts.models import User
from portal.audit import audit, snapshot
from portal.errors import Conflict, InvalidInput, NotAllowed
from portal.locks import locked_again
from portal.notifications import notify
from portal.workflow import move_status
from reviews.consulting.models import ConsultingRequest
from reviews.scheduling.models import Occurrence

CONSULTING_METHODS = [Method.IN_PERSON.value, Method.VIDEO.value, Method.PHONE.value]


STAFF_ONLY = gettext_lazy("Only the engagement's manager, deputy or an admin schedules this.")


CONSULTING_TRANSITIONS: dict[str, set[str]] = {
    ConsultingRequest.Status.REQUESTED: {ConsultingRequest.Status.DECLINED},
    ConsultingRequest.Status.SCHEDULED: {
        ConsultingRequest.Status.DONE,
        ConsultingRequest.Status.DECLINED,
    },
}


@transaction.atomic
def consulting_request(
    *,
    acting_user: User,
    engagement: Engagement,
    topic: str,
    environment_details: str = "",
    desired_dates: str = "",
) -> ConsultingRequest:
    """A named contact asks for environment consulting; the manager and deputy are notified."""
    require_entitlement(engagement, FunctionCode.ENVIRONMENT_CONSULTING)
    if not is_active_contact(engagement, acting_user):
        raise NotAllowed(_("Only the engagement's named contacts request consulting."))
    if not topic.strip():
        raise InvalidInput(fields={"topic": [_("Say what the consulting is about.")]})
    request = ConsultingRequest.objects.create(
        engagement=engagement,
        topic=topic.strip(),
        environment_details=environment_details.strip(),
        desired_dates=desired_dates.strip(),
        requested_by=acting_user,
    )
    audit(
        actor=acting_user,
        action="consulting.request",
        instance=request,
        after=snapshot(request),
        organization_id=engagement.organization_id,
    )
    notify(
        users=[engagement.manager, engagement.deputy],
        kind="consulting.requested",
        key=f"consulting:{request.pk}:requested",
        url=f"/engagements/{engagement.pk}/consulting/#consulting-{request.pk}",
        engagement=engagement,
        render=lambda: (
            _("Environment consulting requested for %(engagement)s: %(topic)s")
            % {"engagement": engagement, "topic": request.topic},
            _("Desired dates: %(dates)s\n%(details)s")
            % {"dates": request.desired_dates or "-", "details": request.environment_details},
        ),
    )
    return request


@transaction.atomic
def consulting_schedule(
    *,
    acting_user: User,
    request: ConsultingRequest,
    starts_at: datetime,
    method: str,
    duration_minutes: int = 60,
) -> ConsultingRequest:
    """The engagement's staff turn a request into a session (an occurrence of
    `environment_consulting`, in person, by video or by phone); the requester is notified."""
    request = locked_again(request, "engagement__plan")
    engagement = request.engagement
    require_staff(acting_user, engagement, STAFF_ONLY)
    require_entitlement(engagement, FunctionCode.ENVIRONMENT_CONSULTING)
    if request.status != ConsultingRequest.Status.REQUESTED:
        raise Conflict(
            _("A %(status)s request cannot be scheduled.")
            % {"status": request.get_status_display().lower()}
        )
    errors: dict[str, list[str]] = {}
    if method not in CONSULTING_METHODS:
        errors["method"] = [_("Choose in person, video conference or phone.")]
    if starts_at is None:
        errors["starts_at"] = [_("Give the start.")]
    elif starts_at <= timezone.now():
        errors["starts_at"] = [_("Choose a time in the future.")]
    if not 5 <= duration_minutes <= 8 * 60:
        errors["duration_minutes"] = [_("Between 5 minutes and 8 hours.")]
    if errors:
        raise InvalidInput(fields=errors)
    session = Occurrence.objects.create(
        engagement=engagement,
        deliverable=FunctionCode.ENVIRONMENT_CONSULTING,
        period=f"{Frequency.AS_NEEDED}:consulting-{request.pk}",
        scheduled_start=starts_at,
        duration_minutes=duration_minutes,
        method=method,
        requested_by=request.requested_by,
        request_note=request.topic,
    )
    before = {"status": request.status, "session": None}
    request.session = session
    request.status = ConsultingRequest.Status.SCHEDULED
    request.save(update_fields=["session", "status", "updated_at"])
    audit(
        actor=acting_user,
        action="consulting.schedule",
        instance=request,
        before=before,
        after={"status": request.status, "session": session.pk},
        organization_id=engagement.organization_id,
    )
    if request.requested_by is not None:
        notify(
            users=[request.requested_by],
            kind="consulting.scheduled",
            key=f"consulting:{request.pk}:scheduled",
            url=f"/reviews/{session.pk}/",
            engagement=engagement,
            render=lambda: (
                _("Environment consulting scheduled: %(topic)s") % {"topic": request.topic},
                _("The session is in your calendar."),
            ),
        )
    return request


@transaction.atomic
def consulting_update_status(
    *, acting_user: User, request: ConsultingRequest, status: str
) -> ConsultingRequest:
    """Staff decline a request, or close a scheduled one as done. 409 otherwise."""
    request = locked_again(request, "engagement__plan")
    require_staff(acting_user, request.engagement, STAFF_ONLY)
    require_entitlement(request.engagement, FunctionCode.ENVIRONMENT_CONSULTING)
    return move_status(
        acting_user=acting_user,
        item=request,
        status=status,
        transitions=CONSULTING_TRANSITIONS,
        action="consulting.status",
        message=_("A %(current)s request cannot become %(new)s."),
        organization_id=request.engagement.organization_id,
    )
    if status not in CONSULTING_TRANSITIONS.get(request.status, set()):
        raise Conflict(
            _("A %(current)s request cannot become %(new)s.")
            % {
                "current": request.get_status_display().lower(),
                "new": ConsultingRequest.Status(status).label.lower(),
            }
        )
    before = request.status
    request.status = status
    request.save(update_fields=["status", "updated_at"])
    audit(
        actor=acting_user,
        action="consulting.status",
        instance=request,
        before={"status": before},
        after={"status": status},
        organization_id=request.engagement.organization_id,
    )
    return request
