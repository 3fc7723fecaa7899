"""Named contacts of an engagement (at most three): forms."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from engagements.contacts.models import Contact
from engagements.contracts.models import Engagement
from portal.accounts.models import User
from portal.forms import PortalForm


class ContactAddForm(PortalForm):
    """Name a person of the engagement's organization who is not a named contact yet."""

    user = forms.ModelChoiceField(
        label=_("Person"), queryset=User.objects.none(), empty_label=_("Choose a person")
    )

    def __init__(self, *args: Any, engagement: Engagement, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["user"])
        field.queryset = (
            User.objects.filter(
                is_active=True,
                memberships__organization_id=engagement.organization_id,
                memberships__is_active=True,
            )
            .exclude(
                pk__in=Contact.objects.filter(
                    engagement_id=engagement.pk, removed_at__isnull=True
                ).values("user_id")
            )
            .order_by("name", "email")
        )
        # Django calls this per instance; the stub only knows the method of a subclass.
        field.label_from_instance = lambda user: (  # type: ignore[method-assign, assignment]
            f"{user.name} <{user.email}>" if user.name else user.email
        )
