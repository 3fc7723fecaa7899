"""The preferences page's form: per kind, in the portal (a checkbox) and e-mail (each time, in
the daily digest, or none). It only parses; the service checks the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.forms import PortalForm

EACH = "each"
DIGEST = "digest"
NONE = "none"
EMAIL_CHOICES = [(EACH, _("Each time")), (DIGEST, _("Daily digest")), (NONE, _("No e-mail"))]


def _email_choice(row: dict[str, Any]) -> str:
    if row["email"]:
        return EACH
    return DIGEST if row["digest"] else NONE


class NotificationPreferencesForm(PortalForm):
    def __init__(self, *args: Any, rows: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows = rows
        for row in rows:
            code = row["kind"]
            self.fields[f"in_app:{code}"] = forms.BooleanField(
                label=_("In the portal"),
                required=False,
                initial=row["in_app"],
                disabled=row["mandatory"],
            )
            self.fields[f"email:{code}"] = forms.ChoiceField(
                label=_("E-mail"),
                choices=EMAIL_CHOICES,
                initial=_email_choice(row),
                disabled=row["mandatory"],
            )

    def table(self) -> list[dict[str, Any]]:
        """One line per kind with its two fields, for the template."""
        return [
            {
                **row,
                "in_app_field": self[f"in_app:{row['kind']}"],
                "email_field": self[f"email:{row['kind']}"],
            }
            for row in self.rows
        ]

    def changes(self) -> list[dict[str, Any]]:
        """What the service takes: the channels of every kind that may be changed."""
        wanted = []
        for row in self.rows:
            if row["mandatory"]:
                continue
            email = self.cleaned_data[f"email:{row['kind']}"]
            wanted.append(
                {
                    "kind": row["kind"],
                    "in_app": self.cleaned_data[f"in_app:{row['kind']}"],
                    "email": email == EACH,
                    "digest": email == DIGEST,
                }
            )
        return wanted
