"""Writes of single sign-on: admins connect an organization to its identity provider (OpenID
Connect or SAML 2.0); a first sign-in may make a member (where the organization allows it)."""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from django.conf import settings
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
    "protocol",
    "issuer",
    "client_id",
    "client_secret",
    "saml_entity_id",
    "saml_sso_url",
    "saml_certificate",
    "saml_metadata_url",
    "saml_email_attribute",
    "domains",
    "is_enabled",
    "require_sso",
    "allow_jit",
)
SAML_TEXT_FIELDS = ("saml_entity_id", "saml_email_attribute")
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


def _check_url(value: Any, field: str) -> str:
    """An https (or, for a test provider, http) URL; empty stays empty."""
    if not isinstance(value, str):
        raise InvalidInput(fields={field: [_("Must be text.")]})
    value = value.strip()
    if not value:
        return ""
    from onelogin.saml2.settings import validate_url

    parts = urlsplit(value)
    if (
        parts.scheme not in ("https", "http")
        or not parts.netloc
        or parts.fragment
        or not validate_url(value, allow_single_label_domain=True)  # as python3-saml checks it
    ):
        raise InvalidInput(
            fields={field: [_("Enter a URL, such as https://idp.example.com/saml/sso.")]}
        )
    return value


def normalize_certificate(value: Any) -> str:
    """An X.509 certificate in PEM form (the body alone, as identity providers often show it,
    is taken too), checked to parse; empty stays empty."""
    message = _(
        "Paste the identity provider's X.509 signing certificate in PEM form "
        "(-----BEGIN CERTIFICATE----- ...)."
    )
    if not isinstance(value, str):
        raise InvalidInput(fields={"saml_certificate": [message]})
    text = value.strip()
    if not text:
        return ""
    if "-----BEGIN" not in text:
        body = re.sub(r"\s+", "", text)
        text = "-----BEGIN CERTIFICATE-----\n" + body + "\n-----END CERTIFICATE-----"
    try:
        certificate = x509.load_pem_x509_certificate(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise InvalidInput(fields={"saml_certificate": [message]}) from None
    body = base64.encodebytes(certificate.public_bytes(Encoding.DER)).decode("ascii")
    return "-----BEGIN CERTIFICATE-----\n" + body + "-----END CERTIFICATE-----\n"


def certificate_fingerprint(pem: str) -> str:
    """SHA-256 of the certificate, as identity providers show it (AA:BB:...); empty if none."""
    if not pem:
        return ""
    try:
        certificate = x509.load_pem_x509_certificate(pem.encode("ascii"))
    except ValueError:
        return ""
    return certificate.fingerprint(hashes.SHA256()).hex(":").upper()


def _read_metadata(url: str, entity_id: str) -> dict[str, str]:
    """The entity ID, single sign-on URL and signing certificate of the identity provider's
    metadata at `url` (the entity named `entity_id` where the document has several)."""
    from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

    try:
        response = requests.get(url, timeout=settings.SOCIALACCOUNT_REQUESTS_TIMEOUT)
        response.raise_for_status()
        parsed = OneLogin_Saml2_IdPMetadataParser.parse(
            response.content,
            entity_id=entity_id or None,
            required_sso_binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
        )
    except requests.RequestException:
        raise InvalidInput(
            fields={"saml_metadata_url": [_("The metadata could not be fetched from this URL.")]}
        ) from None
    except Exception:  # lxml and defusedxml raise many kinds on a document that is not metadata
        parsed = {}
    idp = parsed.get("idp") or {}
    certificate = idp.get("x509cert") or next(
        iter((idp.get("x509certMulti") or {}).get("signing") or []), ""
    )
    found = {
        "saml_entity_id": idp.get("entityId") or "",
        "saml_sso_url": (idp.get("singleSignOnService") or {}).get("url") or "",
        "saml_certificate": certificate,
    }
    if not all(found.values()):
        raise InvalidInput(
            fields={
                "saml_metadata_url": [
                    _(
                        "This is not the metadata of a SAML identity provider with a signing "
                        "certificate and an HTTP-Redirect single sign-on service."
                    )
                ]
            }
        )
    return found


def _check(changes: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    clean = dict(changes)
    if "protocol" in clean and clean["protocol"] not in SsoConnection.Protocol.values:
        errors["protocol"] = [_("Choose oidc or saml.")]
    for field in SAML_TEXT_FIELDS:
        if field in clean:
            if not isinstance(clean[field], str):
                errors[field] = [_("Must be text.")]
            else:
                clean[field] = clean[field].strip()
    for field in ("saml_sso_url", "saml_metadata_url"):
        if field in clean:
            try:
                clean[field] = _check_url(clean[field], field)
            except InvalidInput as error:
                errors.update(error.fields)
    if "saml_certificate" in clean:
        try:
            clean["saml_certificate"] = normalize_certificate(clean["saml_certificate"])
        except InvalidInput as error:
            errors.update(error.fields)
    for field in ("name",):
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
    if "client_id" in clean:
        if not isinstance(clean["client_id"], str):
            errors["client_id"] = [_("Must be text.")]
        else:
            clean["client_id"] = clean["client_id"].strip()
    if clean.get("issuer") == "":
        pass  # emptied (a SAML connection): _require_complete judges it
    elif "issuer" in clean:
        try:
            clean["issuer"] = _check_issuer(clean["issuer"])
        except InvalidInput as error:
            errors.update(error.fields)
    for field, check in (("domains", normalize_domains),):
        if field in clean:
            try:
                clean[field] = check(clean[field])
            except InvalidInput as error:
                errors.update(error.fields)
    if errors:
        raise InvalidInput(fields=errors)
    return clean


def _require_complete(connection: SsoConnection) -> None:
    """What the connection's protocol needs is there (after the changes were applied)."""
    required = _("This field is required.")
    if connection.is_saml:
        if connection.saml_metadata_url:
            # Read again on every save: the IdP's entity ID, SSO URL and certificate come from
            # its metadata (a given entity ID picks the entity of a document with several).
            for field, value in _read_metadata(
                connection.saml_metadata_url, connection.saml_entity_id
            ).items():
                setattr(connection, field, value)
            try:
                connection.saml_certificate = normalize_certificate(connection.saml_certificate)
            except InvalidInput:
                raise InvalidInput(
                    fields={"saml_metadata_url": [_("The metadata's certificate does not parse.")]}
                ) from None
        missing = [
            f
            for f in ("saml_entity_id", "saml_sso_url", "saml_certificate")
            if not getattr(connection, f)
        ]
    else:
        missing = [f for f in ("issuer", "client_id") if not getattr(connection, f)]
        if not connection.has_secret:
            missing.append("client_secret")
    if missing:
        raise InvalidInput(fields={f: [required] for f in missing})


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
        "protocol": connection.protocol,
        "issuer": connection.issuer,
        "client_id": connection.client_id,
        "has_secret": connection.has_secret,
        "saml_entity_id": connection.saml_entity_id,
        "saml_sso_url": connection.saml_sso_url,
        "saml_certificate_sha256": certificate_fingerprint(connection.saml_certificate),
        "saml_metadata_url": connection.saml_metadata_url,
        "saml_email_attribute": connection.saml_email_attribute,
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
    missing = [f for f in ("name", "domains") if f not in fields]
    if missing:
        raise InvalidInput(fields={f: [_("This field is required.")] for f in missing})
    clean = _check(fields)
    protocol = clean.get("protocol", SsoConnection.Protocol.OIDC)
    if protocol == SsoConnection.Protocol.OIDC and not clean.get("client_secret"):
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
    _require_complete(connection)
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
    _require_complete(connection)
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
