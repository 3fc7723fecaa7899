"""Absences of service managers and who is responsible meanwhile: API serializers."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from engagements.absences.models import Absence
from engagements.contracts.serializers import ProviderStaffField
from portal.accounts.models import User
from portal.api.serializers import (
    StrictModelSerializer,
)


class AbsenceManagerField(ProviderStaffField):
    """Whose absence: an admin may name any active provider staff, anyone else only themselves.
    Another manager's id fails exactly like a missing one, with the same message (no id in it),
    so the answer tells nothing about which staff ids exist."""

    def _user(self) -> User | None:
        request = self.context.get("request")
        return getattr(request, "user", None)

    def _admin(self) -> bool:
        user = self._user()
        return bool(user is not None and user.is_authenticated and user.is_provider_admin)

    def get_queryset(self) -> QuerySet[User]:
        staff = super().get_queryset()
        if self._admin():
            return staff
        user = self._user()
        return (
            staff.filter(pk=user.pk) if user is not None and user.is_authenticated else staff.none()
        )

    def to_internal_value(self, data: object) -> User:
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as error:
            if error.get_codes() != ["does_not_exist"]:
                raise
        if self._admin():
            raise serializers.ValidationError(
                _("Choose an active service manager or provider admin."), code="does_not_exist"
            )
        raise serializers.ValidationError(
            _("You can only record your own absences."), code="does_not_exist"
        )


class AbsenceSerializer(StrictModelSerializer):
    """A manager's absence. `manager` defaults to whoever records it."""

    manager = AbsenceManagerField(required=False)

    class Meta:
        model = Absence
        fields = ["id", "manager", "kind", "starts_at", "ends_at", "note"]
        read_only_fields = ["id"]


class CustomerAbsenceSerializer(AbsenceSerializer):
    """What customers see of an absence: when, not why."""

    class Meta(AbsenceSerializer.Meta):
        fields = ["id", "manager", "kind", "starts_at", "ends_at"]
        read_only_fields = fields
