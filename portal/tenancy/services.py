"""Operations on organizations (tenants). Provider admins only; callers check the role."""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from portal.accounts.models import User
from portal.audit import audit, snapshot
from portal.errors import InvalidInput
from portal.files import IMAGES, check_upload
from portal.tenancy.models import Organization
from portal.tenancy.scoping import unscoped


def _unique_slug(name: str, slug: str | None, exclude_pk: int | None = None) -> str:
    slug = slugify(slug or name)[:60]
    if not slug:
        raise InvalidInput(fields={"slug": [_("Give a short name of letters and digits.")]})
    taken = (
        unscoped(Organization, "short names are unique across every tenant")
        .filter(slug=slug)
        # pk=None is a valid lookup (IS NULL: excludes nothing); the stub refuses None for a pk.
        .exclude(pk=exclude_pk)  # type: ignore[misc]
        .exists()
    )
    if taken:
        raise InvalidInput(fields={"slug": [_("This short name is taken.")]})
    return slug


@transaction.atomic
def organization_create(*, acting_user: User, name: str, slug: str | None = None) -> Organization:
    if not name.strip():
        raise InvalidInput(fields={"name": [_("This field may not be blank.")]})
    organization = Organization.objects.create(name=name.strip(), slug=_unique_slug(name, slug))
    audit(
        actor=acting_user,
        action="organization.create",
        instance=organization,
        after=snapshot(organization),
        organization_id=organization.pk,
    )
    return organization


@transaction.atomic
def organization_update(
    *, acting_user: User, organization: Organization, **changes: object
) -> Organization:
    before = snapshot(organization)
    if "slug" in changes or "name" in changes:
        name = str(changes.get("name", organization.name)).strip()
        if not name:
            raise InvalidInput(fields={"name": [_("This field may not be blank.")]})
        changes["name"] = name
        if "slug" in changes:
            changes["slug"] = _unique_slug(name, str(changes["slug"]), exclude_pk=organization.pk)
    for field, value in changes.items():
        setattr(organization, field, value)
    organization.save()
    audit(
        actor=acting_user,
        action="organization.update",
        instance=organization,
        before=before,
        after=snapshot(organization),
        organization_id=organization.pk,
    )
    return organization


LOGO_MAX_BYTES = 512 * 1024


@transaction.atomic
def organization_set_logo(
    *, acting_user: User, organization: Organization, upload: UploadedFile | None
) -> Organization:
    """Replace (or, with None, remove) the logo; PNG or JPEG by content, at most 512 KB."""
    before = organization.logo.name
    if upload is not None:
        kind = check_upload(upload, field="logo", kinds=IMAGES, max_bytes=LOGO_MAX_BYTES)
        organization.logo.save(f"logo.{kind.extension}", upload, save=False)
    else:
        organization.logo = ""
    organization.save(update_fields=["logo", "updated_at"])
    audit(
        actor=acting_user,
        action="organization.logo",
        instance=organization,
        before={"logo": before},
        after={"logo": organization.logo.name},
        organization_id=organization.pk,
    )
    if before and before != organization.logo.name:
        storage = organization.logo.storage
        transaction.on_commit(lambda: storage.delete(before))
    return organization
