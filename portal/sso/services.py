"""Writes of single sign-on: admins connect an organization to its OpenID Connect provider;
a first sign-in may make a member (where the organization allows it)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction
from django.utils.translation import gettext as _

from portal.accounts.models import User
from portal.audit import audit
from portal.deletions import deletion_record
from portal.errors import InvalidInput, NotAllowed, refuse_unknown_fields
from portal.sso.models import SsoConnection, SsoDomain
from portal.tenancy.models import Membership, Organization
from portal.tenancy.scoping import unscoped

FIELDS = (
    "name",
    "issuer",
    "client_id",
    "client_secret",
    "domains",
    "is_enabled",
    "require_sso",
    "allow_jit",
)
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _require_admin(acting_user: User) -> None:
    if not acting_user.is_provider_admin:
        raise NotAllowed(_("Only provider admins may change single sign-on."))


def normalize_domains(value: Any) -> list[str]:
    """A list (or a comma/space/line separated text) of e-mail domains, lower case, unique."""
    if isinstance(value, str):
        value = re.split(r"[\s,;]+", value)
    if not isinstance(value, list | tuple):
        raise InvalidInput(fields={"domains": [_("Give a list of e-mail domains.")]})
    domains: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise InvalidInput(fields={"domains": [_("Give a list of e-mail domains.")]})
        domain = item.strip().lower().lstrip("@").rstrip(".")
        if not domain:
            continue
        if not DOMAIN.match(domain):
            raise InvalidInput(
                fields={"domains": [_("%(domain)s is not an e-mail domain.") % {"domain": item}]}
            )
        if domain not in domains:
            domains.append(domain)
    if not domains:
        raise InvalidInput(fields={"domains": [_("Name at least one e-mail domain.")]})
    return domains


def _check_issuer(issuer: Any) -> str:
    if not isinstance(issuer, str):
        raise InvalidInput(fields={"issuer": [_("Enter the issuer's URL.")]})
    issuer = issuer.strip()
    parts = urlsplit(issuer)
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.query or parts.fragment:
        raise InvalidInput(
            fields={"issuer": [_("Enter the issuer's URL, such as https://login.example.com.")]}
        )
    return issuer.rstrip("/")


def _check(changes: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    clean = dict(changes)
    for field in ("name", "client_id"):
        if field in clean:
            if not isinstance(clean[field], str) or not clean[field].strip():
                errors[field] = [_("This field may not be blank.")]
            else:
                clean[field] = clean[field].strip()
    for field in ("is_enabled", "require_sso", "allow_jit"):
        if field in clean and not isinstance(clean[field], bool):
            errors[field] = [_("Must be true or false.")]
    if "client_secret" in clean and not isinstance(clean["client_secret"], str):
        errors["client_secret"] = [_("Must be text.")]
    for field, check in (("issuer", _check_issuer), ("domains", normalize_domains)):
        if field in clean:
            try:
                clean[field] = check(clean[field])
            except InvalidInput as error:
                errors.update(error.fields)
    if errors:
        raise InvalidInput(fields=errors)
    return clean


def _set_domains(connection: SsoConnection, domains: list[str]) -> None:
    taken = (
        unscoped(SsoDomain, "an e-mail domain belongs to one organization across every tenant")
        .filter(domain__in=domains)
        .exclude(organization_id=connection.organization_id)
        .values_list("domain", flat=True)
    )
    if taken:
        raise InvalidInput(
            fields={
                "domains": [
                    _("%(domain)s is already another organization's domain.")
                    % {"domain": sorted(taken)[0]}
                ]
            }
        )
    SsoDomain.objects.filter(connection=connection).exclude(domain__in=domains).delete()
    have = set(SsoDomain.objects.filter(connection=connection).values_list("domain", flat=True))
    SsoDomain.objects.bulk_create(
        SsoDomain(organization_id=connection.organization_id, connection=connection, domain=d)
        for d in domains
        if d not in have
    )


def _snapshot(connection: SsoConnection, domains: list[str]) -> dict[str, Any]:
    """What the audit trail keeps: never the secret, only whether there is one."""
    return {
        "name": connection.name,
        "issuer": connection.issuer,
        "client_id": connection.client_id,
        "has_secret": connection.has_secret,
        "domains": domains,
        "is_enabled": connection.is_enabled,
        "require_sso": connection.require_sso,
        "allow_jit": connection.allow_jit,
    }


def domains_of(connection: SsoConnection) -> list[str]:
    return sorted(d.domain for d in connection.domains.all())


@transaction.atomic
def sso_connection_create(
    *, acting_user: User, organization: Organization, **fields: Any
) -> SsoConnection:
    _require_admin(acting_user)
    refuse_unknown_fields(fields, FIELDS)
    missing = [
        f for f in ("name", "issuer", "client_id", "client_secret", "domains") if f not in fields
    ]
    if missing:
        raise InvalidInput(fields={f: [_("This field is required.")] for f in missing})
    clean = _check(fields)
    if not clean["client_secret"]:
        raise InvalidInput(fields={"client_secret": [_("This field may not be blank.")]})
    if SsoConnection.objects.filter(organization=organization).exists():
        raise InvalidInput(
            fields={
                "organization": [_("This organization already has a single sign-on connection.")]
            }
        )
    domains = clean.pop("domains")
    connection = SsoConnection(organization=organization)
    for field, value in clean.items():
        setattr(connection, field, value)
    connection.save()
    _set_domains(connection, domains)
    audit(
        actor=acting_user,
        action="sso_connection.create",
        instance=connection,
        after=_snapshot(connection, domains),
        organization_id=organization.pk,
    )
    return connection


@transaction.atomic
def sso_connection_update(
    *, acting_user: User, connection: SsoConnection, **changes: Any
) -> SsoConnection:
    """Change what is given; an empty or absent `client_secret` keeps the stored one."""
    _require_admin(acting_user)
    refuse_unknown_fields(changes, FIELDS)
    clean = _check(changes)
    if not clean.get("client_secret", "x"):
        clean.pop("client_secret")
    before = _snapshot(connection, domains_of(connection))
    domains = clean.pop("domains", None)
    for field, value in clean.items():
        setattr(connection, field, value)
    connection.save()
    if domains is not None:
        _set_domains(connection, domains)
    after = _snapshot(connection, domains if domains is not None else before["domains"])
    if "client_secret" in clean:
        after["secret_changed"] = True
    audit(
        actor=acting_user,
        action="sso_connection.update",
        instance=connection,
        before=before,
        after=after,
        organization_id=connection.organization_id,
    )
    return connection


@transaction.atomic
def sso_connection_delete(*, acting_user: User, connection: SsoConnection) -> None:
    _require_admin(acting_user)
    audit(
        actor=acting_user,
        action="sso_connection.delete",
        instance=connection,
        before=_snapshot(connection, domains_of(connection)),
        organization_id=connection.organization_id,
    )
    deletion_record(
        object_type="sso_connection",
        object_id=connection.pk,
        organization_id=connection.organization_id,
    )
    connection.delete()


@transaction.atomic
def sso_member_join(*, connection: SsoConnection, user: User) -> Membership:
    """A person signing in for the first time through their organization's provider, where it
    allows just-in-time accounts: a member of the organization, never a named contact."""
    if not connection.allow_jit:
        raise NotAllowed(_("This organization does not create accounts on first sign-in."))
    membership = Membership.objects.create(
        user=user, organization_id=connection.organization_id, role=Membership.Role.MEMBER
    )
    audit(
        actor=user,
        action="sso.member_join",
        instance=user,
        after={"email": user.email, "role": Membership.Role.MEMBER, "connection": connection.name},
        organization_id=connection.organization_id,
    )
    return membership
