"""Fix requests, software performance reports (service function `software_performance_report`):
writes.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.casework.models import Case
from cases.fixes.models import FixRequest
from engagements.absences.selectors import with_cover
from engagements.contacts.selectors import is_active_contact
from engagements.contracts.models import Engagement
from engagements.entitlements import FunctionCode, require_entitlement
from engagements.selectors import require_staff, serves
from portal.accounts.models import User
from portal.audit import audit, snapshot
from portal.errors import InvalidInput, NotAllowed
from portal.notifications import notify

RANK_OFFSET = 1_000_000  # parks open ranks out of the way while they are re-numbered


def fixes_url(engagement_id: int) -> str:
    return f"/engagements/{engagement_id}/fixes/"


def _lock_engagement(engagement: Engagement) -> None:
    """Serialize ranking on one engagement, so ranks stay 1..n under concurrency."""
    Engagement.objects.select_for_update().filter(pk=engagement.pk).first()


def _open_requests(engagement: Engagement) -> list[FixRequest]:
    return list(
        FixRequest.objects.filter(
            engagement=engagement, vendor_status__in=FixRequest.OPEN_STATUSES
        ).order_by("customer_rank", "id")
    )


def _apply_ranks(engagement: Engagement, ordered: Sequence[FixRequest]) -> None:
    """Give the engagement's open requests the ranks 1..n in this order (two statements: park
    the current ranks out of the way, then set the new ones, so no two ever collide)."""
    changed = [request for rank, request in enumerate(ordered, 1) if request.customer_rank != rank]
    if not changed:
        return
    FixRequest.objects.filter(pk__in=[request.pk for request in changed]).update(
        customer_rank=F("customer_rank") + RANK_OFFSET, updated_at=timezone.now()
    )
    now = timezone.now()
    for rank, request in enumerate(ordered, 1):
        request.customer_rank = rank
        request.updated_at = now
    FixRequest.objects.bulk_update(changed, ["customer_rank", "updated_at"])


def _check_case(engagement: Engagement, case: Case | None) -> None:
    if case is not None and case.engagement_id != engagement.pk:
        raise InvalidInput(fields={"case": [_("Choose a case of the same engagement.")]})


@transaction.atomic
def fix_request_create(
    *,
    acting_user: User,
    engagement: Engagement,
    title: str,
    description: str = "",
    case: Case | None = None,
    customer_rank: int | None = None,
) -> FixRequest:
    """A named contact (or the engagement's staff) asks for a fix; it goes last in the
    customer's ranking unless `customer_rank` places it (the others move down)."""
    require_entitlement(engagement, FunctionCode.SOFTWARE_PERFORMANCE_REPORTS)
    if not serves(acting_user, engagement) and not is_active_contact(engagement, acting_user):
        raise NotAllowed(_("Only the engagement's named contacts and staff request fixes."))
    errors: dict[str, list[str]] = {}
    if not title.strip():
        errors["title"] = [_("Give the fix request a title.")]
    if errors:
        raise InvalidInput(fields=errors)
    _check_case(engagement, case)
    _lock_engagement(engagement)
    ordered = _open_requests(engagement)
    position = len(ordered) + 1 if customer_rank is None else customer_rank
    if not 1 <= position <= len(ordered) + 1:
        raise InvalidInput(
            fields={
                "customer_rank": [
                    _("The rank is 1 to %(last)d.") % {"last": len(ordered) + 1},
                ]
            }
        )
    fix = FixRequest.objects.create(
        engagement=engagement,
        title=title.strip(),
        description=description,
        case=case,
        customer_rank=len(ordered) + 1 + RANK_OFFSET,
        created_by=acting_user,
    )
    ordered.insert(position - 1, fix)
    _apply_ranks(engagement, ordered)
    audit(
        actor=acting_user,
        action="fix_request.create",
        instance=fix,
        after=snapshot(fix),
        organization_id=engagement.organization_id,
    )
    if not serves(acting_user, engagement):
        notify(
            users=with_cover(engagement, [engagement.manager]),
            kind="fix_request.created",
            key=f"fix_request:{fix.pk}:created",
            url=f"{fixes_url(engagement.pk)}#fix-{fix.pk}",
            engagement=engagement,
            render=lambda: (
                _("New fix request #%(rank)d: %(title)s")
                % {"rank": fix.customer_rank, "title": fix.title},
                fix.description,
            ),
        )
    return fix


@transaction.atomic
def fix_request_rank(
    *, acting_user: User, engagement: Engagement, ordered_ids: Sequence[int]
) -> list[FixRequest]:
    """The named contacts' ranking: `ordered_ids` lists every open request of the engagement
    exactly once, most important first; they get the ranks 1..n at once. Any other id
    (closed, another engagement's or tenant's, missing) refuses the whole order alike."""
    require_entitlement(engagement, FunctionCode.SOFTWARE_PERFORMANCE_REPORTS)
    if not is_active_contact(engagement, acting_user):
        raise NotAllowed(_("Only the engagement's named contacts rank fix requests."))
    _lock_engagement(engagement)
    current = {request.pk: request for request in _open_requests(engagement)}
    ids = [int(value) for value in ordered_ids]
    if len(ids) != len(set(ids)) or set(ids) != set(current):
        raise InvalidInput(
            fields={
                "order": [_("List every open fix request of the engagement exactly once.")],
            }
        )
    before = {str(pk): request.customer_rank for pk, request in current.items()}
    ordered = [current[pk] for pk in ids]
    _apply_ranks(engagement, ordered)
    audit(
        actor=acting_user,
        action="fix_request.rank",
        instance=engagement,
        before={"ranks": before},
        after={"ranks": {str(request.pk): request.customer_rank for request in ordered}},
        organization_id=engagement.organization_id,
    )
    return ordered


@transaction.atomic
def fix_request_set_vendor_status(
    *,
    acting_user: User,
    fix_request: FixRequest,
    vendor_status: str,
    target_release: str | None = None,
) -> FixRequest:
    """The vendor's answer (staff serving the engagement, or admins). A released or declined
    request leaves the ranking (keeping its last rank) and the others close up; a reopened one
    goes last. The requester is told."""
    fix = (
        FixRequest.objects.select_for_update(of=("self",))
        .select_related("engagement__plan", "created_by")
        .get(pk=fix_request.pk)
    )
    engagement = fix.engagement
    require_entitlement(engagement, FunctionCode.SOFTWARE_PERFORMANCE_REPORTS)
    require_staff(acting_user, engagement, _("Only the engagement's staff set the vendor status."))
    if vendor_status not in FixRequest.VendorStatus.values:
        raise InvalidInput(fields={"vendor_status": [_("Choose one of the vendor statuses.")]})
    _lock_engagement(engagement)
    before = snapshot(fix)
    was_open = fix.is_open
    now_open = vendor_status in FixRequest.OPEN_STATUSES
    if now_open and not was_open:
        last = FixRequest.objects.filter(
            engagement=engagement, vendor_status__in=FixRequest.OPEN_STATUSES
        ).aggregate(last=Max("customer_rank"))["last"]
        fix.customer_rank = (last or 0) + 1
    changed_status = fix.vendor_status != vendor_status
    fix.vendor_status = vendor_status
    if target_release is not None:
        fix.target_release = target_release.strip()
    fix.save()
    if was_open and not now_open:
        _apply_ranks(engagement, _open_requests(engagement))
    audit(
        actor=acting_user,
        action="fix_request.vendor_status",
        instance=fix,
        before=before,
        after=snapshot(fix),
        organization_id=engagement.organization_id,
    )
    if changed_status:
        notify(
            users=[fix.created_by] if fix.created_by != acting_user else [],
            kind="fix_request.status",
            key=f"fix_request:{fix.pk}:status:{vendor_status}:{timezone.now().timestamp()}",
            url=f"{fixes_url(engagement.pk)}#fix-{fix.pk}",
            engagement=engagement,
            render=lambda: (
                _("Fix request %(title)s is now %(status)s")
                % {"title": fix.title, "status": fix.get_vendor_status_display().lower()},
                fix.target_release,
            ),
        )
    return fix
