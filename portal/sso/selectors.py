"""Reads of single sign-on. Sign-in happens before anyone is signed in, so the lookups that
serve it cross tenants on purpose, each narrowed to one domain, one provider id or one user."""

from __future__ import annotations

from django.db.models import QuerySet

from portal.accounts.models import User
from portal.sso.models import PROVIDER_PREFIX, SsoConnection, SsoDomain
from portal.tenancy.models import Membership
from portal.tenancy.scoping import unscoped


def _all_connections() -> QuerySet[SsoConnection]:
    return unscoped(SsoConnection, "sign-in finds the identity provider before anyone signs in")


def connection_for_provider_id(provider_id: str) -> SsoConnection | None:
    """The connection behind allauth's provider id "sso-<pk>"."""
    if not provider_id.startswith(PROVIDER_PREFIX):
        return None
    pk = provider_id.removeprefix(PROVIDER_PREFIX)
    if not pk.isdigit():
        return None
    return _all_connections().select_related("organization").filter(pk=int(pk)).first()


def connection_for_email(email: str) -> SsoConnection | None:
    """The connection of the organization that owns the address's domain, if any."""
    domain = email.strip().rpartition("@")[2].lower().rstrip(".")
    if not domain:
        return None
    row = (
        unscoped(SsoDomain, "sign-in finds the organization that owns an e-mail domain")
        .filter(domain=domain)
        .values_list("connection_id", flat=True)
        .first()
    )
    if row is None:
        return None
    return _all_connections().select_related("organization").filter(pk=row).first()


def connection_for_organization_slug(slug: str) -> SsoConnection | None:
    return _all_connections().select_related("organization").filter(organization__slug=slug).first()


def all_connections() -> QuerySet[SsoConnection]:
    """For allauth's app lookup by provider id (narrowed by the caller)."""
    return _all_connections()


def owns_domain(connection: SsoConnection, email: str) -> bool:
    domain = email.strip().rpartition("@")[2].lower().rstrip(".")
    return (
        unscoped(SsoDomain, "the connection's own domains, read during its sign-in")
        .filter(connection=connection, domain=domain)
        .exists()
    )


def is_member(user: User, connection: SsoConnection) -> bool:
    return (
        unscoped(Membership, "who belongs to the connection's organization, read during sign-in")
        .filter(user=user, organization_id=connection.organization_id, is_active=True)
        .exists()
    )


def sso_required_for(user: User) -> SsoConnection | None:
    """The enabled connection that requires single sign-on of one of the person's
    organizations: then they may not sign in with a password. Never for provider staff."""
    if user.is_provider_staff:
        return None
    organizations = unscoped(Membership, "the person's own organizations, read at sign-in").filter(
        user=user, is_active=True
    )
    return (
        _all_connections()
        .filter(
            is_enabled=True,
            require_sso=True,
            organization_id__in=organizations.values("organization_id"),
        )
        .order_by("pk")
        .first()
    )
