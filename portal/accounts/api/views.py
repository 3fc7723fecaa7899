from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from portal.accounts import services
from portal.accounts.filters import UserFilter
from portal.accounts.models import ApiToken, User
from portal.accounts.selectors import users_visible_to
from portal.api.permissions import AdminWritesOthersRead
from portal.api.serializers import ScopedRelatedField, StrictModelSerializer
from portal.api.views import PortalCreateReadUpdateViewSet
from portal.http import actor
from portal.tenancy.models import Membership, Organization


class MembershipSerializer(serializers.ModelSerializer):
    class Meta:
        model = Membership
        fields = ["organization", "role", "is_active"]


class UserSerializer(StrictModelSerializer):
    """A person. For customers `organization` and `role` give their (first) membership."""

    organization = ScopedRelatedField(model=Organization, required=False, allow_null=True)
    role = serializers.ChoiceField(choices=Membership.Role.choices, required=False, allow_null=True)
    engagement = serializers.IntegerField(
        write_only=True,
        required=False,
        allow_null=True,
        min_value=1,
        help_text=_(
            "For a point of contact (`role` poc): the organization's engagement they are named a "
            "contact of; takes one of its contact seats."
        ),
    )
    memberships = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "name",
            "kind",
            "organization",
            "role",
            "engagement",
            "memberships",
            "is_active",
            "language",
            "time_zone",
            "date_joined",
        ]
        read_only_fields = ["id", "date_joined"]

    @extend_schema_field(MembershipSerializer(many=True))
    def get_memberships(self, user: User) -> list[dict]:
        # many=True makes a ListSerializer, whose data is a list; the stub says ReturnDict.
        return MembershipSerializer(user.memberships.all(), many=True).data  # type: ignore[return-value]

    def to_representation(self, user: User) -> dict:
        data = super().to_representation(user)
        first = next(iter(user.memberships.all()), None)
        data["organization"] = first.organization_id if first else None
        data["role"] = first.role if first else None
        return data

    def validate(self, attrs: dict) -> dict:
        if self.instance is not None:
            for frozen in ("email", "kind", "organization", "role", "engagement"):
                if frozen in attrs and attrs[frozen] != getattr(self.instance, frozen, None):
                    raise serializers.ValidationError(
                        {frozen: [_("This field cannot be changed after provisioning.")]}
                    )
        return attrs


class MyOrganizationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    role = serializers.CharField(
        help_text=_("`poc` or `member` for customers; `manager` for staff.")
    )


class MeSerializer(serializers.Serializer):
    """Who the request acts as: the token's owner (or the signed-in user)."""

    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=User.Kind.choices)
    language = serializers.CharField()
    time_zone = serializers.CharField()
    organizations = MyOrganizationSerializer(many=True)
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=ApiToken.Scope.choices),
        allow_null=True,
        help_text=_("The token's scopes; null for a session, which has all of its user's rights."),
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


def _my_organizations(user: User) -> list[dict]:
    """A customer's memberships with their role; the organizations a manager serves; none for
    an admin (who sees every organization)."""
    if user.is_provider_admin:
        return []
    if user.is_customer:
        memberships = Membership.objects.filter(user=user, is_active=True).select_related(
            "organization"
        )
        return [
            {"id": m.organization_id, "name": m.organization.name, "role": m.role}
            for m in memberships.order_by("organization__name", "organization_id")
        ]
    return [
        {"id": organization.pk, "name": organization.name, "role": "manager"}
        for organization in Organization.objects.order_by("name", "id")
    ]


@extend_schema(tags=["users"])
class UserViewSet(PortalCreateReadUpdateViewSet):
    """People. Admins provision and change them; others see themselves and whom they work with."""

    queryset = User.objects.all()
    serializer_class = UserSerializer
    filterset_class = UserFilter
    permission_classes = [*PortalCreateReadUpdateViewSet.permission_classes, AdminWritesOthersRead]

    def get_queryset(self) -> QuerySet[User]:
        return users_visible_to(actor(self.request)).prefetch_related(
            Prefetch("memberships", queryset=Membership.objects.order_by("id"))
        )

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = services.user_provision(
            acting_user=actor(request),
            email=data["email"],
            name=data.get("name", ""),
            kind=data.get("kind", User.Kind.CUSTOMER),
            organization=data.get("organization"),
            role=data.get("role"),
            engagement_id=data.get("engagement"),
            language=data.get("language", "en"),
            time_zone=data.get("time_zone", "UTC"),
        )
        return Response(
            self.get_serializer(self.get_queryset().get(pk=user.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    def update(self, request: Request, *args: object, **kwargs: object) -> Response:
        user = self.get_object()
        serializer = self.get_serializer(
            user, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        changes = {
            key: value
            for key, value in serializer.validated_data.items()
            if key not in ("email", "kind", "organization", "role", "engagement")
        }
        services.user_update(acting_user=actor(request), user=user, **changes)
        return Response(self.get_serializer(self.get_queryset().get(pk=user.pk)).data)

    @extend_schema(request=None, responses=MeSerializer)
    @action(
        detail=False,
        methods=["get"],
        url_path="me",
        url_name="me",
        serializer_class=MeSerializer,
        filter_backends=[],
        pagination_class=None,
    )
    def me(self, request: Request) -> Response:
        """The token's owner (or the signed-in user): kind, organizations and token scopes."""
        user = actor(request)
        token = request.auth if isinstance(request.auth, ApiToken) else None
        data = {
            "id": user.pk,
            "email": user.email,
            "name": user.name,
            "kind": User.Kind.ADMIN if user.is_provider_admin else user.kind,
            "language": user.language,
            "time_zone": str(user.time_zone),
            "organizations": _my_organizations(user),
            "scopes": list(token.scopes) if token is not None else None,
            "created_at": user.created_at,
            "updated_at": user.updated_at,
        }
        return Response(MeSerializer(data).data)
