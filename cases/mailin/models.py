"""Cases by e-mail: the record of every inbound message (what it became, once)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.tenancy.scoping import TenantOwned


class InboundMessage(TenantOwned):
    """One inbound e-mail, recorded in the transaction that acted on it: its unique key (the
    Message-ID, or a hash of the raw message when it has none) makes handling idempotent, so
    a message delivered twice, or by two processes at once, creates one thing.

    Messages from people of no organization belong to no tenant (organization empty): only the
    system sees them."""

    tenant_path = "organization"
    tenant_engagement_path = "engagement"

    message_key = models.CharField(max_length=255, unique=True)
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True)
    sender = models.CharField(_("sender"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    outcome = models.CharField(_("outcome"), max_length=40)
    detail = models.TextField(_("detail"), blank=True)
    organization = models.ForeignKey(
        "tenancy.Organization", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    engagement = models.ForeignKey(
        "engagements.Engagement",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    case = models.ForeignKey(
        "cases.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)
    # `<sender>:<UTC day>` on the one message per sender and day that was answered with a
    # refusal: the unique key keeps it one, however many messages arrive at once.
    refusal_key = models.CharField(max_length=300, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["sender", "received_at"], name="inbound_sender"),
            # The retention's scan (cases.mailin.services.purge_old_messages).
            models.Index(fields=["received_at"], name="inbound_received"),
        ]
        verbose_name = _("inbound e-mail")
        verbose_name_plural = _("inbound e-mails")

    def __str__(self) -> str:
        return f"{self.sender} {self.outcome}"
