"""The enablement (training) catalog: writes."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils.translation import gettext as _

from portal.accounts.models import User
from portal.audit import audit, snapshot
from portal.deletions import deletion_record
from portal.errors import InvalidInput, NotAllowed
from reviews.enablement.models import TrainingResource


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
    deletion_record(object_type="training-resource", object_id=resource.pk, public=True)
    resource.delete()
