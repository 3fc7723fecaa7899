from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.accounts.models import TIME_ZONE_CHOICES
from portal.forms import ScopedForm
from portal.tenancy.contacts import contact_engagements_of
from portal.tenancy.models import Membership, Organization


class OrganizationForm(ScopedForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    slug = forms.SlugField(
        label=_("Short name"),
        max_length=60,
        required=False,
        help_text=_("Letters, digits and hyphens; made from the name if empty."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    logo = forms.FileField(
        label=_("Logo"),
        required=False,
        help_text=_("PNG or JPEG, at most 512 KB."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg"}),
    )


class CustomerPersonForm(ScopedForm):
    email = forms.EmailField(label=_("E-mail address"))
    name = forms.CharField(label=_("Name"), max_length=150)
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)
    engagement = forms.TypedChoiceField(
        label=_("Named contact of"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("A named contact takes one of the engagement's contact seats."),
    )
    language = forms.ChoiceField(
        label=_("Language"), choices=[("en", _("English")), ("ko", _("Korean"))]
    )
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=TIME_ZONE_CHOICES, initial="UTC")

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["engagement"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "---------"), *contact_engagements_of(organization)]
