"""What cases do when other parts of the portal change (signals sent after the commit)."""

from __future__ import annotations

import logging

from django.db import DatabaseError
from django.dispatch import receiver

from engagements.signals import engagement_changed
from portal.tenancy.scoping import system_scope

logger = logging.getLogger(__name__)


@receiver(engagement_changed)
def _release_items_of_former_staff(sender: object, engagement_id: int, **kwargs: object) -> None:
    """A new manager or deputy: items held by whom no longer serves go back to the queue. The
    engagement's change is committed already; a failure here is logged, not turned into an
    error for the change that was saved."""
    from cases.casework.services import cases_release_from_former_staff

    try:
        with system_scope("items of an engagement's former manager or deputy"):
            cases_release_from_former_staff(engagement_id=engagement_id)
    except DatabaseError:
        logger.exception("Could not release the items of engagement %s", engagement_id)
