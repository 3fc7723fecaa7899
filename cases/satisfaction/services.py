"""The customer's rating of a resolution: writes."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.casework.models import Case
from cases.satisfaction.models import CaseRating
from cases.satisfaction.selectors import (
    RATABLE_STATUSES,
    RATING_EDIT_DAYS,
    editable_until,
    may_rate,
)
from portal.accounts.models import User
from portal.audit import audit, snapshot
from portal.errors import Conflict, InvalidInput, NotAllowed
from portal.text import TEXT_MAX, control_character_error

AUDITED = ("score", "comment", "rated_by")


def _check(score: object, comment: str) -> str:
    errors: dict[str, list[str]] = {}
    if (
        isinstance(score, bool)
        or not isinstance(score, int)
        or not CaseRating.SCORE_MIN <= score <= CaseRating.SCORE_MAX
    ):
        errors["score"] = [_("Rate from 1 to 5.")]
    comment = (comment or "").strip()
    if len(comment) > TEXT_MAX:
        errors["comment"] = [
            _("At most %(max)d characters (it has %(length)d).")
            % {"max": TEXT_MAX, "length": len(comment)}
        ]
    elif (message := control_character_error(comment, multiline=True)) is not None:
        errors["comment"] = [str(message)]
    if errors:
        raise InvalidInput(fields=errors)
    return comment


@transaction.atomic
def case_rate(*, acting_user: User, case: Case, score: int, comment: str = "") -> CaseRating:
    """Rate the resolution of a resolved or closed item, 1 to 5 with an optional comment.

    Only the customer rates (an active named contact or the item's requester), once; the rating
    may be changed for `RATING_EDIT_DAYS` days after it was first given (409 afterwards)."""
    case = Case.objects.select_for_update(of=("self",)).select_related("engagement").get(pk=case.pk)
    if not may_rate(acting_user, case):
        raise NotAllowed(_("Only the customer's named contacts and the requester rate an item."))
    if case.status not in RATABLE_STATUSES:
        raise Conflict(
            _("Only a resolved or closed item can be rated."),
            fields={"status": [_("The item is not resolved yet.")]},
        )
    comment = _check(score, comment)
    now = timezone.now()
    rating = CaseRating.objects.select_for_update().filter(case=case).first()
    if rating is None:
        rating = CaseRating.objects.create(
            case=case,
            score=score,
            comment=comment,
            rated_by=acting_user,
            rated_at=now,
            updated_at=now,
        )
        audit(
            actor=acting_user,
            action="case.rate",
            instance=rating,
            after={name: value for name, value in snapshot(rating).items() if name in AUDITED},
            organization_id=case.engagement.organization_id,
        )
        return rating
    if now > editable_until(rating):
        raise Conflict(
            _("The rating can be changed only within %(days)d days of giving it.")
            % {"days": RATING_EDIT_DAYS}
        )
    before = {name: value for name, value in snapshot(rating).items() if name in AUDITED}
    rating.score, rating.comment, rating.rated_by, rating.updated_at = (
        score,
        comment,
        acting_user,
        now,
    )
    rating.save(update_fields=["score", "comment", "rated_by", "updated_at"])
    audit(
        actor=acting_user,
        action="case.rate",
        instance=rating,
        before=before,
        after={name: value for name, value in snapshot(rating).items() if name in AUDITED},
        organization_id=case.engagement.organization_id,
    )
    return rating
