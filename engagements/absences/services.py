"""Absences of service managers and who is responsible meanwhile: writes."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from engagements.absences.models import Absence
from portal.accounts.models import User
from portal.audit import audit
from portal.deletions import deletion_record
from portal.errors import DomainError, InvalidInput


@transaction.atomic
def absence_record(
    *,
    acting_user: User,
    manager: User,
    kind: str,
    starts_at: datetime,
    ends_at: datetime,
    note: str = "",
) -> Absence:
    """Managers record their own absences; admins anyone's."""
    if not manager.is_provider_staff:
        raise InvalidInput(fields={"manager": [_("Absences are for provider staff.")]})
    if acting_user != manager and not acting_user.is_provider_admin:
        raise DomainError(_("You can only record your own absences."))
    errors: dict[str, list[str]] = {}
    if kind not in Absence.Kind.values:
        errors["kind"] = [_("Choose vacation, sick leave or internal training.")]
    if ends_at <= starts_at:
        errors["ends_at"] = [_("The absence must end after it starts.")]
    elif Absence.objects.filter(
        manager=manager, starts_at__lt=ends_at, ends_at__gt=starts_at
    ).exists():
        errors["starts_at"] = [_("This overlaps another absence.")]
    if errors:
        raise InvalidInput(fields=errors)
    absence = Absence(manager=manager, kind=kind, starts_at=starts_at, ends_at=ends_at, note=note)
    now = timezone.now()
    if ends_at <= now:
        absence.summarized_at = now  # recorded afterwards: nobody covered, nothing to report
    absence.save()
    audit(
        actor=acting_user, action="absence.record", instance=absence, after=_absence_state(absence)
    )
    return absence


def _absence_state(absence: Absence) -> dict[str, object]:
    return {
        "manager": absence.manager_id,
        "kind": absence.kind,
        "starts_at": absence.starts_at.isoformat(),
        "ends_at": absence.ends_at.isoformat(),
        "note": absence.note,
    }


@transaction.atomic
def absence_delete(*, acting_user: User, absence: Absence) -> None:
    if acting_user != absence.manager and not acting_user.is_provider_admin:
        raise DomainError(_("You can only remove your own absences."))
    audit(
        actor=acting_user, action="absence.delete", instance=absence, before=_absence_state(absence)
    )
    # Provider-wide (no organization): staff see the tombstone, as they see the absence.
    deletion_record(object_type="absence", object_id=absence.pk)
    absence.delete()
