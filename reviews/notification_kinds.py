"""The notification kinds the reviews app sends, for people's preferences
(portal.notification_preferences). Registered from ReviewsConfig.ready()."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from portal.notification_preferences.kinds import CUSTOMER, STAFF, register_kind


def register_kinds() -> None:
    register_kind("occurrence.reminder", _("Session reminder"))
    register_kind("occurrence.requested", _("Session requested"), audience=STAFF)
    register_kind("consulting.requested", _("Consulting requested"), audience=STAFF)
    register_kind("consulting.scheduled", _("Consulting scheduled"), audience=CUSTOMER)
    register_kind("maintenance.planned", _("Maintenance planned"), audience=CUSTOMER)
    register_kind("maintenance.notice", _("Maintenance notice"), audience=CUSTOMER)
    register_kind("change.planned", _("Change announced"), audience=CUSTOMER)
