"""/api/v1/sso-connections/: an organization's identity provider, OpenID Connect or SAML 2.0.
Provider admins create, change and remove them; others read their own organizations' (another's
is a 404). `client_secret` is write-only: stored encrypted, never returned."""

from __future__ import annotations

from typing import Any

import django_filters
from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from portal.api.permissions import AdminWritesOthersRead
from portal.api.serializers import MULTILINE, ScopedRelatedField, StrictModelSerializer
from portal.api.views import PortalModelViewSet
from portal.filters import IdFilter, ScopedFilterSet
from portal.http import actor
from portal.sso import services
from portal.sso.adapter import saml_urls
from portal.sso.models import SsoConnection
from portal.tenancy.models import Organization


class DomainsField(serializers.ListField):
    """The e-mail domains the organization owns: read from its SsoDomain rows."""

    def get_attribute(self, instance: SsoConnection) -> list[str]:
        return sorted(d.domain for d in instance.domains.all())


class SsoConnectionSerializer(StrictModelSerializer):
    organization = ScopedRelatedField(model=Organization)
    protocol = serializers.ChoiceField(
        choices=SsoConnection.Protocol.choices,
        required=False,
        help_text="oidc (the default on creation) or saml.",
    )
    issuer = serializers.CharField(
        max_length=300, required=False, allow_blank=True, help_text="OpenID Connect."
    )
    client_id = serializers.CharField(
        max_length=255, required=False, allow_blank=True, help_text="OpenID Connect."
    )
    saml_entity_id = serializers.CharField(
        max_length=300, required=False, allow_blank=True, help_text="SAML: the IdP's entity ID."
    )
    saml_sso_url = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        help_text="SAML: the IdP's single sign-on URL (HTTP-Redirect binding).",
    )
    saml_certificate = serializers.CharField(
        max_length=20000,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        style=MULTILINE,
        help_text="SAML: the IdP's X.509 signing certificate, PEM. Responses not signed with "
        "it are refused.",
    )
    saml_metadata_url = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        help_text="SAML, instead of the three above: the IdP's metadata URL, read on every save.",
    )
    saml_email_attribute = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="SAML: the attribute holding the e-mail address; empty: the common names, "
        "then the NameID when it is an address.",
    )
    saml_certificate_sha256 = serializers.SerializerMethodField()
    saml_sp = serializers.SerializerMethodField()
    client_secret = serializers.CharField(
        write_only=True,
        max_length=500,
        trim_whitespace=False,
        required=False,
        help_text="Write-only: stored encrypted and never returned. Required on creation; "
        "omit it (or send an empty string) on an update to keep the stored one.",
    )
    domains = DomainsField(
        child=serializers.CharField(max_length=253), allow_empty=False, max_length=50
    )
    has_secret = serializers.BooleanField(read_only=True)
    sign_in_url = serializers.SerializerMethodField()
    redirect_uri = serializers.SerializerMethodField()

    class Meta:
        model = SsoConnection
        fields = [
            "id",
            "organization",
            "name",
            "protocol",
            "issuer",
            "client_id",
            "client_secret",
            "has_secret",
            "saml_entity_id",
            "saml_sso_url",
            "saml_certificate",
            "saml_certificate_sha256",
            "saml_metadata_url",
            "saml_email_attribute",
            "saml_sp",
            "domains",
            "is_enabled",
            "require_sso",
            "allow_jit",
            "sign_in_url",
            "redirect_uri",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "has_secret", "created_at", "updated_at"]

    @extend_schema_field(serializers.URLField())
    def get_sign_in_url(self, instance: SsoConnection) -> str:
        return settings.SITE_URL + reverse("sso_start", kwargs={"slug": instance.organization.slug})

    @extend_schema_field(serializers.URLField())
    def get_redirect_uri(self, instance: SsoConnection) -> str:
        """Where the provider sends people back: OpenID Connect's callback, SAML's ACS."""
        if instance.is_saml:
            return saml_urls(instance.organization.slug)["acs_url"]
        return settings.SITE_URL + reverse(
            "openid_connect_callback", kwargs={"provider_id": instance.provider_id}
        )

    @extend_schema_field(serializers.CharField())
    def get_saml_certificate_sha256(self, instance: SsoConnection) -> str:
        return services.certificate_fingerprint(instance.saml_certificate)

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "properties": {
                "entity_id": {"type": "string"},
                "acs_url": {"type": "string", "format": "uri"},
                "metadata_url": {"type": "string", "format": "uri"},
            },
        }
    )
    def get_saml_sp(self, instance: SsoConnection) -> dict[str, str] | None:
        """SAML: what to give the identity provider (the portal's entity ID, ACS, metadata)."""
        if not instance.is_saml:
            return None
        urls = saml_urls(instance.organization.slug)
        return {
            "entity_id": urls["sp_entity_id"],
            "acs_url": urls["acs_url"],
            "metadata_url": urls["metadata_url"],
        }


class SsoConnectionFilter(ScopedFilterSet):
    organization = IdFilter(field_name="organization_id")
    is_enabled = django_filters.BooleanFilter()

    class Meta:
        model = SsoConnection
        fields = ["organization", "is_enabled"]


class AdminWritesOwnReads(AdminWritesOthersRead):
    """As AdminWritesOthersRead, but a write naming an object is judged once the object was
    fetched through the scope: another organization's connection answers 404 to anyone who
    cannot see it (as a missing one does), their own 403."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if getattr(view, "detail", False):
            return True
        return super().has_permission(request, view)

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        return super().has_permission(request, view)


@extend_schema(tags=["single sign-on"])
class SsoConnectionViewSet(PortalModelViewSet):
    """Customer organizations' OpenID Connect providers (one per organization)."""

    queryset = SsoConnection.objects.all()
    serializer_class = SsoConnectionSerializer
    filterset_class = SsoConnectionFilter
    permission_classes = [*PortalModelViewSet.permission_classes, AdminWritesOwnReads]
    ordering = "organization_id"

    def get_queryset(self) -> QuerySet[SsoConnection]:
        return (
            SsoConnection.objects.select_related("organization")
            .prefetch_related("domains")
            .order_by("organization_id", "id")
        )

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        connection = services.sso_connection_create(
            acting_user=actor(request), organization=data.pop("organization"), **data
        )
        return Response(
            self.get_serializer(self.get_queryset().get(pk=connection.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    def update(self, request: Request, *args: object, **kwargs: object) -> Response:
        connection = self.get_object()
        serializer = self.get_serializer(
            connection, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        organization = data.pop("organization", connection.organization)
        if organization.pk != connection.organization_id:
            raise serializers.ValidationError(
                {"organization": [_("The organization of a connection cannot change.")]}
            )
        services.sso_connection_update(acting_user=actor(request), connection=connection, **data)
        return Response(self.get_serializer(self.get_queryset().get(pk=connection.pk)).data)

    def perform_destroy(self, instance: SsoConnection) -> None:
        services.sso_connection_delete(acting_user=actor(self.request), connection=instance)
