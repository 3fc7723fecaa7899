"""The risk register (service function `risk_mitigation`): writes."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.risks.models import Risk, RiskReviewReminder
from engagements.absences.selectors import with_cover
from engagements.contracts.models import Engagement
from engagements.entitlements import FunctionCode, require_entitlement
from engagements.selectors import require_staff
from portal.accounts.models import User
from portal.audit import audit, snapshot
from portal.errors import InvalidInput
from portal.notifications import notify
from portal.tenancy.scoping import unscoped

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


def _review_recipients(risk: Risk, now: datetime) -> list[User]:
    """The risk's owner and the engagement's manager, each followed, while away, by whoever
    covers for them (notify skips repeats)."""
    return with_cover(risk.engagement, [risk.owner, risk.engagement.manager], now)


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
            users=_review_recipients(risk, now),
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
