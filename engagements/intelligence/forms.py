"""The customer profile (service function `customer_intelligence`): forms."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from portal.forms import PortalForm, long_text_field


class CustomerProfileForm(PortalForm):
    roadmap = long_text_field(_("Roadmap"), _("Where the customer is heading with the platform."))
    use_cases = long_text_field(_("Use cases"))
    priorities = long_text_field(_("Priorities"))
    key_dates = long_text_field(_("Key dates"), _("Go-lives, freezes, audits, renewals."))
