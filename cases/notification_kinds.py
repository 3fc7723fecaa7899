"""The notification kinds the cases app sends, for people's preferences
(portal.notification_preferences). Registered from CasesConfig.ready().

The response objective's reminders (at risk, breached) are mandatory: SPEC §5 has the
manager, the deputy and the admins told, so nobody can turn them off or defer them."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from portal.notification_preferences.kinds import CUSTOMER, STAFF, register_kind


def register_kinds() -> None:
    register_kind("case.raised", _("New case"), audience=STAFF)
    register_kind("case.comment", _("Reply on a case"))
    register_kind("case.assigned", _("Case assigned to you"), audience=STAFF)
    register_kind("case.escalated", _("Case escalated"), audience=STAFF)
    register_kind("case.awaiting_customer", _("Case waiting for your reply"), audience=CUSTOMER)
    register_kind("case.resolved", _("Case resolved"), audience=CUSTOMER)
    register_kind("sla.at_risk", _("Response objective at risk"), audience=STAFF, mandatory=True)
    register_kind("sla.breached", _("Response objective breached"), audience=STAFF, mandatory=True)
    register_kind("fix_request.created", _("New fix request"), audience=STAFF)
    register_kind("fix_request.status", _("Fix request status changed"))
    register_kind("risk.review_due", _("Risk review due"), audience=STAFF)
    register_kind("absence.summary", _("While you were away"), audience=STAFF)
