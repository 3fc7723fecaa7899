"""Named contacts of an engagement (at most three): API serializers."""

from __future__ import annotations

from engagements.contacts.models import Contact
from engagements.contracts.serializers import ContactCandidateField
from portal.api.serializers import (
    StrictModelSerializer,
)


class ContactSerializer(StrictModelSerializer):
    """A named contact. Input is only `user`: an active person of the engagement's organization."""

    user = ContactCandidateField()

    class Meta:
        model = Contact
        fields = ["id", "user", "added_at", "added_by", "removed_at"]
        read_only_fields = ["id", "added_at", "added_by", "removed_at"]
