"""Vendor news and roadmap announcements: writes."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from portal.accounts.models import User
from portal.audit import audit, snapshot
from portal.errors import InvalidInput, NotAllowed
from reviews.publications.models import Publication, PublicationReceipt


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
