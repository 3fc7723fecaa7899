from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EngagementsConfig(AppConfig):
    name = "engagements"
    verbose_name = _("Engagements")

    def ready(self) -> None:
        from engagements import selectors
        from portal.tenancy.scoping import register_manager_visibility, register_staff_serving

        register_manager_visibility(
            engagements_of=selectors.engagement_ids_served_by,
            organizations_of=selectors.organization_ids_of_engagements,
        )
        register_staff_serving(selectors.staff_ids_serving)

        from engagements.contacts.selectors import contact_engagements_of
        from engagements.contacts.services import contact_name_on_provisioning
        from portal.tenancy.contacts import ContactNaming, register_contact_naming

        register_contact_naming(
            ContactNaming(engagements_of=contact_engagements_of, name=contact_name_on_provisioning)
        )
        # Connects the catalog snapshot's invalidation (the cards' and the board's cache).
        from engagements.audit_words import register_actions
        from engagements.catalog import selectors as catalog_selectors  # noqa: F401
        from engagements.notification_kinds import register_kinds

        register_actions()
        register_kinds()

        from engagements.contacts.models import Contact
        from engagements.contacts.serializers import ContactSerializer
        from engagements.contracts.models import Engagement
        from engagements.contracts.serializers import EngagementSerializer
        from portal.webhooks.events import register_object

        # In a webhook's `data`: what the REST API returns the subscription's owner.
        register_object(
            Engagement, "engagement", lambda row: EngagementSerializer(row, context={}).data
        )
        register_object(Contact, "contact", lambda row: ContactSerializer(row, context={}).data)
