"""How the reviews app's audit actions read (portal.audit_words): sessions, maintenance,
changes, publications, training, consulting and calendar feeds. Registered from
ReviewsConfig.ready()."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from portal.audit_words import PERSONAL, WORK
from portal.audit_words import register_action as register


def register_actions() -> None:
    register("occurrence.complete", _("%(actor)s completed the session %(object)s"), kind=WORK)
    register(
        "maintenance.plan", _("%(actor)s planned the maintenance window %(object)s"), kind=WORK
    )
    register(
        "maintenance.update", _("%(actor)s changed the maintenance window %(object)s"), kind=WORK
    )
    register(
        "maintenance.status",
        _("%(actor)s changed the status of the maintenance window %(object)s"),
        kind=WORK,
    )
    register("change.plan", _("%(actor)s announced the change %(object)s"), kind=WORK)
    register("change.update", _("%(actor)s changed the change %(object)s"), kind=WORK)
    register("change.status", _("%(actor)s changed the status of the change %(object)s"), kind=WORK)
    register(
        "change.acknowledge",
        _("%(actor)s acknowledged the change %(object)s"),
        kind=PERSONAL,
        hidden=("user",),
    )
    register("publication.publish", _("%(actor)s published %(object)s"), kind=WORK)
    register("publication.read", _("%(actor)s read %(object)s"), kind=PERSONAL, hidden=("user",))
    register("training.add", _("%(actor)s added the training %(object)s"), kind=WORK)
    register("training.remove", _("%(actor)s removed the training %(object)s"), kind=WORK)
    register("consulting.request", _("%(actor)s requested consulting: %(object)s"), kind=WORK)
    register("consulting.schedule", _("%(actor)s scheduled the consulting %(object)s"), kind=WORK)
    register(
        "consulting.status",
        _("%(actor)s changed the status of the consulting %(object)s"),
        kind=WORK,
    )
    register("calendar_feed.create", _("%(actor)s created their calendar feed"), kind=PERSONAL)
    register("calendar_feed.revoke", _("%(actor)s revoked their calendar feed"), kind=PERSONAL)
