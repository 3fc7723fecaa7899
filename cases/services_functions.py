"""Operations of two service functions of TSAM and Premium plans: the risk register
(`risk_mitigation`) and the customer's ranked fix requests (`software_performance_reports`).

Who may call what (each refuses with 403 `not_entitled` where the plan lacks the function):
risk create / update — provider staff serving the engagement (manager, deputy) or admins;
fix request create — the engagement's named contacts and its staff; rank — named contacts;
vendor status and target release — staff. Each change writes one audit entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, Max, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import Case, FixRequest, Risk, RiskReviewReminder
from cases.services import NotAllowed, serves
from engagements.entitlements import FunctionCode, require_entitlement
from engagements.models import Engagement
from engagements.selectors import is_active_contact, require_staff
from portal.accounts.models import User
from portal.audit import audit, snapshot
from portal.errors import InvalidInput
from portal.notifications import notify
from portal.tenancy.scoping import unscoped

RANK_OFFSET = 1_000_000  # parks open ranks out of the way while they are re-numbered

RISK_FIELDS = (
    "title",
    "description",
    "likelihood",
    "impact",
    "mitigation_plan",
    "owner",
    "status",
    "next_review_date",
)


def risks_url(engagement_id: int) -> str:
    return f"/engagements/{engagement_id}/risks/"


def fixes_url(engagement_id: int) -> str:
    return f"/engagements/{engagement_id}/fixes/"


# --- Risks -------------------------------------------------------------------------------------


def _check_risk(values: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    if not str(values.get("title") or "").strip():
        errors["title"] = [_("Give the risk a title.")]
    for name in ("likelihood", "impact"):
        value = values.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
            errors[name] = [_("Rate it from 1 to 5.")]
    if values.get("status") not in Risk.Status.values:
        errors["status"] = [_("Choose open, mitigating, accepted or closed.")]
    owner = values.get("owner")
    if owner is not None and not (owner.is_provider_staff and owner.is_active):
        errors["owner"] = [_("The owner is an active member of the provider's staff.")]
    if errors:
        raise InvalidInput(fields=errors)


@transaction.atomic
def risk_create(
    *,
    acting_user: User,
    engagement: Engagement,
    title: str,
    likelihood: int,
    impact: int,
    description: str = "",
    mitigation_plan: str = "",
    owner: User | None = None,
    status: str = Risk.Status.OPEN,
    next_review_date: date | None = None,
) -> Risk:
    """Add a risk to the engagement's register (staff serving it, or admins); the owner
    defaults to the engagement's manager."""
    require_entitlement(engagement, FunctionCode.RISK_MITIGATION)
    require_staff(acting_user, engagement, _("Only the engagement's staff record risks."))
    values = {
        "title": title,
        "likelihood": likelihood,
        "impact": impact,
        "status": status,
        "owner": owner if owner is not None else engagement.manager,
    }
    _check_risk(values)
    risk = Risk.objects.create(
        engagement=engagement,
        title=title.strip(),
        description=description,
        likelihood=likelihood,
        impact=impact,
        score=likelihood * impact,
        mitigation_plan=mitigation_plan,
        owner=values["owner"],
        status=status,
        next_review_date=next_review_date,
        created_by=acting_user,
    )
    audit(
        actor=acting_user,
        action="risk.create",
        instance=risk,
        after=snapshot(risk),
        organization_id=engagement.organization_id,
    )
    return risk


@transaction.atomic
def risk_update(*, acting_user: User, risk: Risk, **changes: Any) -> Risk:
    """Change a risk (staff serving the engagement, or admins); the score follows likelihood
    and impact. `changes` takes the fields of `RISK_FIELDS`."""
    unknown = set(changes) - set(RISK_FIELDS)
    if unknown:
        raise InvalidInput(fields={name: [_("Unknown field.")] for name in sorted(unknown)})
    risk = (
        Risk.objects.select_for_update(of=("self",))
        .select_related("engagement__plan")
        .get(pk=risk.pk)
    )
    engagement = risk.engagement
    require_entitlement(engagement, FunctionCode.RISK_MITIGATION)
    require_staff(acting_user, engagement, _("Only the engagement's staff change risks."))
    before = snapshot(risk)
    values = {name: getattr(risk, name) for name in RISK_FIELDS}
    values.update(changes)
    _check_risk(values)
    for name, value in values.items():
        setattr(risk, name, value.strip() if name == "title" else value)
    risk.score = risk.likelihood * risk.impact
    risk.save()
    audit(
        actor=acting_user,
        action="risk.update",
        instance=risk,
        before=before,
        after=snapshot(risk),
        organization_id=engagement.organization_id,
    )
    return risk


def _review_recipients(risk: Risk) -> list[User]:
    """The risk's owner and the engagement's manager (notify skips repeats)."""
    return [person for person in (risk.owner, risk.engagement.manager) if person is not None]


def _remind_one(risk_id: int, now: datetime) -> bool:
    """Claim and send one risk's review reminder in one transaction; False when the risk is
    no longer due or another scan already claimed this review date."""
    with transaction.atomic():
        risk = (
            unscoped(Risk, "the reminder scan locks a due risk of any tenant by id")
            .select_for_update(of=("self",))
            .select_related("engagement", "engagement__manager", "engagement__deputy", "owner")
            .filter(pk=risk_id)
            .first()
        )
        if risk is None or not risk.is_active or risk.next_review_date is None:
            return False
        if risk.next_review_date > risk.engagement.local_today(now):
            return False
        review_date = risk.next_review_date
        try:
            with transaction.atomic():
                RiskReviewReminder.objects.create(risk=risk, review_date=review_date, sent_at=now)
        except IntegrityError:
            return False  # claimed by another scan (which waited for nothing: it sent it)
        notify(
            users=_review_recipients(risk),
            kind="risk.review_due",
            key=f"risk:{risk.pk}:review:{review_date.isoformat()}",
            url=f"{risks_url(risk.engagement_id)}#risk-{risk.pk}",
            engagement=risk.engagement,
            render=lambda: (
                _("Risk review due: %(title)s (score %(score)d)")
                % {"title": risk.title, "score": risk.score},
                _("The review of this risk was due on %(date)s.")
                % {"date": review_date.isoformat()},
            ),
        )
        return True


def remind_risk_reviews(now: datetime | None = None) -> dict[str, int]:
    """Remind owners and managers of active risks whose review date has come (in the
    engagement's zone): once per risk and review date, even when two scans run at once.
    Call inside a scope that sees every tenant (the task opens the system scope)."""
    now = now or timezone.now()
    # Every zone's "today" is at most one day ahead of UTC's; each risk is re-checked locally.
    horizon = (now + timedelta(days=1)).date()
    candidates = list(
        unscoped(Risk, "the reminder scan reads every tenant's due risks")
        .filter(
            status__in=Risk.ACTIVE_STATUSES,
            next_review_date__isnull=False,
            next_review_date__lte=horizon,
        )
        .exclude(
            Exists(
                RiskReviewReminder.objects.filter(
                    risk=OuterRef("pk"), review_date=OuterRef("next_review_date")
                )
            )
        )
        .order_by("next_review_date", "id")
        .values_list("id", flat=True)
    )
    sent = sum(1 for risk_id in candidates if _remind_one(risk_id, now))
    return {"sent": sent, "skipped": len(candidates) - sent}


# --- Fix requests ------------------------------------------------------------------------------


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
        customer_rank=F("customer_rank") + RANK_OFFSET
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
            users=[engagement.manager],
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
