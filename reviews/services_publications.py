"""Operations of vendor news and roadmap announcements, the enablement catalog and
environment consulting.

Admins publish news and roadmap announcements, managers publish news; customers who open one
leave a read receipt (idempotently). Admins keep the training catalog. Named contacts of an
engagement whose plan includes environment consulting request it (403 `not_entitled`
otherwise); its staff schedule a session (an occurrence), decline or close it. Every operation
writes one audit entry.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from engagements.entitlements import FunctionCode, require_entitlement
from engagements.models import Engagement, Frequency, Method
from engagements.selectors import is_active_contact, require_staff
from portal.accounts.models import User
from portal.audit import audit, snapshot
from portal.errors import Conflict, InvalidInput, NotAllowed
from portal.notifications import notify
from reviews.models import (
    ConsultingRequest,
    Occurrence,
    Publication,
    PublicationReceipt,
    TrainingResource,
)

CONSULTING_METHODS = [Method.IN_PERSON.value, Method.VIDEO.value, Method.PHONE.value]
STAFF_ONLY = gettext_lazy("Only the engagement's manager, deputy or an admin schedules this.")
CONSULTING_TRANSITIONS: dict[str, set[str]] = {
    ConsultingRequest.Status.REQUESTED: {ConsultingRequest.Status.DECLINED},
    ConsultingRequest.Status.SCHEDULED: {
        ConsultingRequest.Status.DONE,
        ConsultingRequest.Status.DECLINED,
    },
}


# --- Publications ------------------------------------------------------------------------------


def may_publish(user: User, kind: str) -> bool:
    """Admins publish both kinds; service managers publish vendor news."""
    if user.is_provider_admin:
        return True
    return user.is_service_manager and kind == Publication.Kind.NEWS


@transaction.atomic
def publication_publish(
    *, acting_user: User, kind: str, title: str, body: str, major: bool = False
) -> Publication:
    """Publish news or a roadmap announcement to every engagement entitled to its function."""
    errors: dict[str, list[str]] = {}
    if kind not in Publication.Kind.values:
        errors["kind"] = [_("Choose vendor news or a roadmap announcement.")]
    elif not may_publish(acting_user, kind):
        raise NotAllowed(
            _("Admins publish roadmap announcements; admins and managers publish vendor news.")
        )
    if not title.strip():
        errors["title"] = [_("Give the publication a title.")]
    if not body.strip():
        errors["body"] = [_("Write the text.")]
    if errors:
        raise InvalidInput(fields=errors)
    publication = Publication.objects.create(
        kind=kind,
        title=title.strip(),
        body=body.strip(),
        major=major,
        audience=Publication.AUDIENCE[Publication.Kind(kind)],
        published_by=acting_user,
    )
    audit(
        actor=acting_user,
        action="publication.publish",
        instance=publication,
        after=snapshot(publication),
    )
    return publication


def publication_mark_read(
    *, acting_user: User, publication: Publication
) -> PublicationReceipt | None:
    """A customer opened the publication (fetched through `visible_publications`, so it is
    theirs to read). Idempotent: the first receipt stays. Staff leave none."""
    if acting_user.is_provider_staff:
        return None
    existing = PublicationReceipt.objects.filter(publication=publication, user=acting_user).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            receipt = PublicationReceipt.objects.create(publication=publication, user=acting_user)
            audit(
                actor=acting_user,
                action="publication.read",
                instance=publication,
                after={"user": acting_user.pk},
            )
    except IntegrityError:
        # A twin request recorded it between our read and our insert.
        return PublicationReceipt.objects.get(publication=publication, user=acting_user)
    return receipt


# --- The training catalog ----------------------------------------------------------------------


def _require_admin(acting_user: User) -> None:
    if not acting_user.is_provider_admin:
        raise NotAllowed(_("Only admins maintain the training catalog."))


@transaction.atomic
def training_resource_add(
    *, acting_user: User, title: str, url: str, description: str = ""
) -> TrainingResource:
    """An admin adds a self-paced training to the catalog."""
    _require_admin(acting_user)
    errors: dict[str, list[str]] = {}
    if not title.strip():
        errors["title"] = [_("Give the training a title.")]
    try:
        URLValidator(schemes=["http", "https"])(url.strip())
    except ValidationError:
        errors["url"] = [_("Give a web address (https://…).")]
    if errors:
        raise InvalidInput(fields=errors)
    resource = TrainingResource.objects.create(
        title=title.strip(),
        url=url.strip(),
        description=description.strip(),
        created_by=acting_user,
    )
    audit(
        actor=acting_user,
        action="training.add",
        instance=resource,
        after=snapshot(resource),
    )
    return resource


@transaction.atomic
def training_resource_remove(*, acting_user: User, resource: TrainingResource) -> None:
    """An admin removes a training from the catalog."""
    _require_admin(acting_user)
    before = snapshot(resource)
    audit(actor=acting_user, action="training.remove", instance=resource, before=before)
    resource.delete()


# --- Environment consulting --------------------------------------------------------------------


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


def _locked_request(request: ConsultingRequest) -> ConsultingRequest:
    return (
        ConsultingRequest.objects.select_for_update(of=("self",))
        .select_related("engagement__plan")
        .get(pk=request.pk)
    )


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
    request = _locked_request(request)
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
    request = _locked_request(request)
    require_staff(acting_user, request.engagement, STAFF_ONLY)
    require_entitlement(request.engagement, FunctionCode.ENVIRONMENT_CONSULTING)
    if status not in ConsultingRequest.Status.values:
        raise InvalidInput(fields={"status": [_("Unknown status.")]})
    if status == request.status:
        return request
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
