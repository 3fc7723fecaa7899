from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.accounts.models import TIME_ZONE_CHOICES, ApiToken, User, time_zone_choices
from portal.forms import PortalForm, PortalModelForm, TextFormMixin


class ApiTokenForm(PortalForm):
    name = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("What uses this token, e.g. “CRM sync”.")
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=ApiToken.Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[ApiToken.Scope.READ],
    )
    expires_in_days = forms.IntegerField(
        label=_("Expires in (days)"),
        min_value=1,
        max_value=730,
        initial=90,
        required=False,
        help_text=_("Leave empty for the portal's default term (a year unless configured)."),
    )

    def expires_at(self) -> datetime | None:
        days = self.cleaned_data.get("expires_in_days")
        return timezone.now() + timedelta(days=days) if days else None


class StaffPersonForm(PortalForm):
    email = forms.EmailField(label=_("E-mail address"))
    name = forms.CharField(label=_("Name"), max_length=150)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[
            (User.Kind.MANAGER, User.Kind.MANAGER.label),
            (User.Kind.ADMIN, User.Kind.ADMIN.label),
        ],
    )
    language = forms.ChoiceField(
        label=_("Language"), choices=[("en", _("English")), ("ko", _("Korean"))]
    )
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=TIME_ZONE_CHOICES, initial="UTC")


class PreferencesForm(PortalModelForm):
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=TIME_ZONE_CHOICES)

    class Meta:
        model = User
        fields = ["name", "language", "time_zone"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A zone stored before the list was narrowed to canonical names stays selectable.
        field = self.fields["time_zone"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = time_zone_choices(self.instance.time_zone)


def _reset_password_form_base() -> type[forms.Form]:
    from allauth.account.forms import ResetPasswordForm

    return ResetPasswordForm


class PortalResetPasswordForm(TextFormMixin, _reset_password_form_base()):  # type: ignore[misc]
    """allauth's "forgot your password", which sends nothing to a person whose organization
    requires its single sign-on (a password would not sign them in). The page answers as it
    does for any address ("we have sent you an e-mail"), so it tells nobody whether the
    address has an account or uses single sign-on."""

    def save(self, request: Any, **kwargs: Any) -> str:
        from portal.sso.selectors import sso_required_for

        users = list(getattr(self, "users", []))
        if users and all(sso_required_for(user) is not None for user in users):
            return str(self.cleaned_data["email"])
        self.users = [user for user in users if sso_required_for(user) is None]
        return str(super().save(request, **kwargs))
