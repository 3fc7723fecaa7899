"""The notification kinds the engagements app sends, for people's preferences
(portal.notification_preferences). Registered from EngagementsConfig.ready()."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from portal.notification_preferences.kinds import CUSTOMER, STAFF, register_kind


def register_kinds() -> None:
    register_kind("after_hours.requested", _("After-hours support requested"), audience=STAFF)
    register_kind("after_hours.decided", _("After-hours support decided"), audience=CUSTOMER)
    register_kind("overage.raised", _("Hours over the weekly cap"), audience=STAFF)
