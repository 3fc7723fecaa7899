"""Operations on people and their API tokens. Views, serializers and commands call these."""

from __future__ import annotations

from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portal.accounts.models import ApiToken, User
from portal.audit import audit, snapshot
from portal.errors import InvalidInput
from portal.notifications import queue_email
from portal.tenancy.contacts import name_contact
from portal.tenancy.models import Membership, Organization


def _queue_welcome(user: User) -> None:
    """The welcome e-mail goes through the outbox, written with the user: an SMTP outage
    delays it and fails nothing (the delivery job retries)."""
    with translation.override(user.language):
        queue_email(
            to=user.email,
            subject=str(_("Your Service Portal account")),
            body=_(
                "An account was created for you at %(site)s.\nChoose your password here: %(url)s\n"
            )
            % {
                "site": settings.SITE_URL,
                "url": settings.SITE_URL + reverse("account_reset_password"),
            },
            language=user.language,
        )


@transaction.atomic
def user_provision(
    *,
    acting_user: User | None,
    email: str,
    name: str = "",
    kind: str = User.Kind.CUSTOMER,
    organization: Organization | None = None,
    role: str | None = None,
    engagement_id: int | None = None,
    password: str | None = None,
    language: str = "en",
    time_zone: str = "UTC",
) -> User:
    """Create a person (admins only, checked by callers); customers join one organization.

    A point of contact is a named contact of an engagement: `role="poc"` needs `engagement_id`
    (one of the organization's engagements) and takes one of its contact seats, under the
    plan's cap (`contact_limit_reached`). Queues a welcome e-mail in the outbox (sent by the
    delivery job after commit).
    """
    email = email.strip().lower()
    errors: dict[str, list[str]] = {}
    if User.objects.filter(email__iexact=email).exists():
        errors["email"] = [_("A user with this e-mail address already exists.")]
    if kind == User.Kind.CUSTOMER:
        if organization is None:
            errors["organization"] = [_("Customers must belong to an organization.")]
        if role not in Membership.Role.values:
            errors["role"] = [_("Choose poc or member for a customer.")]
        elif role == Membership.Role.POC and engagement_id is None:
            errors["engagement"] = [
                _("A point of contact is a named contact of an engagement: choose the engagement.")
            ]
        elif role == Membership.Role.MEMBER and engagement_id is not None:
            errors["engagement"] = [_("Only a point of contact is named on an engagement.")]
    elif organization is not None or role or engagement_id is not None:
        errors["organization"] = [_("Provider staff do not belong to a customer organization.")]
    if errors:
        raise InvalidInput(fields=errors)
    user = User.objects.create_user(
        email, password, name=name, kind=kind, language=language, time_zone=time_zone
    )
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    if organization is not None:
        # A member first: naming the contact makes them a point of contact, under the cap.
        Membership.objects.create(user=user, organization=organization, role=Membership.Role.MEMBER)
        if role == Membership.Role.POC and engagement_id is not None:
            name_contact(
                acting_user=acting_user,
                organization=organization,
                engagement_id=engagement_id,
                user=user,
            )
    audit(
        actor=acting_user,
        action="user.provision",
        instance=user,
        after=snapshot(user),
        organization_id=organization.pk if organization else None,
    )
    _queue_welcome(user)
    return user


@transaction.atomic
def user_update(*, acting_user: User, user: User, **changes: object) -> User:
    """Change a person's name, kind, language, zone or active flag; audited."""
    allowed = {"name", "language", "time_zone", "is_active"}
    before = snapshot(user)
    for field, value in changes.items():
        if field not in allowed:
            raise InvalidInput(fields={field: [_("This field cannot be changed.")]})
        setattr(user, field, value)
    user.save()
    audit(
        actor=acting_user,
        # one's own language and zone are personal preferences, kept apart in the audit page
        action="user.preferences" if acting_user.pk == user.pk else "user.update",
        instance=user,
        before=before,
        after=snapshot(user),
    )
    return user


def api_token_create(
    *,
    user: User,
    name: str,
    scopes: list[str],
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Issue a token for `user`; returns it with the plain text, which is shown only once.
    With no expiry given it expires after API_TOKEN_DEFAULT_DAYS (0: never)."""
    if expires_at is None and settings.API_TOKEN_DEFAULT_DAYS > 0:
        expires_at = timezone.now() + timedelta(days=settings.API_TOKEN_DEFAULT_DAYS)
    scopes = sorted(set(scopes))
    bad = [scope for scope in scopes if scope not in ApiToken.Scope.values]
    errors: dict[str, list[str]] = {}
    if not scopes or bad:
        errors["scopes"] = [_("Choose read, write or both.")]
    if not name.strip():
        errors["name"] = [_("Give the token a name.")]
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = [_("The expiry must be in the future.")]
    if errors:
        raise InvalidInput(fields=errors)
    key_id, secret, plain = ApiToken.new_secret()
    token = ApiToken(
        user=user, name=name.strip(), key_id=key_id, scopes=scopes, expires_at=expires_at
    )
    token.set_secret(secret)
    token.save()
    audit(
        actor=user,
        action="api_token.create",
        instance=token,
        after={"name": token.name, "scopes": scopes, "expires_at": str(expires_at)},
    )
    return token, plain


def api_token_revoke(*, token: ApiToken, acting_user: User) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit(
            actor=acting_user,
            action="api_token.revoke",
            instance=token,
            before={"revoked_at": None},
            after={"revoked_at": token.revoked_at.isoformat()},
        )
    return token
