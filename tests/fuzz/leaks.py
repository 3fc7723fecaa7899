"""What counts as tenant B's data in a response: B's marker text, or B's ids in id fields."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.fuzz.conftest import MARKER, FuzzData

# The resource a path segment names: its model, for path parameters and the ids in its bodies.
RESOURCES = {
    "absences": "engagements.Absence",
    "action-items": "reviews.ActionItem",
    "advocacy-items": "engagements.AdvocacyItem",
    "after-hours-requests": "engagements.AfterHoursRequest",
    "attachments": "cases.Attachment",
    "cases": "cases.Case",
    "changes": "reviews.ChangeItem",
    "consulting-requests": "reviews.ConsultingRequest",
    "contacts": "engagements.Contact",
    "customer-profiles": "engagements.CustomerProfile",
    "engagements": "engagements.Engagement",
    "events": "cases.CaseEvent",
    "fix-requests": "cases.FixRequest",
    "maintenance-windows": "reviews.MaintenanceWindow",
    "organizations": "tenancy.Organization",
    "plans": "engagements.Plan",
    "publications": "reviews.Publication",
    "reviews": "reviews.Occurrence",
    "risks": "cases.Risk",
    "service-functions": "engagements.ServiceFunction",
    "sso-connections": "portal.SsoConnection",
    "time-entries": "engagements.TimeEntry",
    "training-resources": "reviews.TrainingResource",
    "upgrade-plans": "engagements.UpgradePlan",
    "users": "accounts.User",
}
# Path parameters other than `{id}` and the model they name.
PATH_PARAMETERS = {
    "attachment_id": "cases.Attachment",
    "contact_id": "engagements.Contact",
    "engagement": "engagements.Engagement",
}
# Keys of response and request bodies that hold the id of a tenant-owned row.
REFERENCES = {
    "engagement": "engagements.Engagement",
    "organization": "tenancy.Organization",
    "case": "cases.Case",
    "occurrence": "reviews.Occurrence",
    "risk": "cases.Risk",
    "change": "reviews.ChangeItem",
    "user": "accounts.User",
    "assignee": "accounts.User",
    "owner": "accounts.User",
    "author": "accounts.User",
    "actor": "accounts.User",
}
_PARAMETER = re.compile(r"^\{.*\}$")


def _literal_segments(path: str) -> list[str]:
    return [part for part in path.split("/") if part and not _PARAMETER.match(part)]


def id_model(path: str) -> str | None:
    """The model named by the path's `{id}`: the first resource segment."""
    segments = [part for part in _literal_segments(path) if part in RESOURCES]
    return RESOURCES[segments[0]] if segments else None


def body_model(path: str) -> str | None:
    """The model of the objects a path answers with, where it is unambiguous: a nested
    collection (`/cases/{id}/events/`) or the resource itself; actions answer with their
    resource. `None` where the body is something else (hours, trends, reports, ranks)."""
    segments = _literal_segments(path)
    last = segments[-1]
    if last in RESOURCES:
        return RESOURCES[last]
    if last in {"hours", "trends", "report", "rank", "milestones"}:
        return None
    return id_model(path)


def tenant_b_references(body: Any, path: str, b_ids: dict[str, frozenset[int]]) -> list[str]:
    """Where a JSON body names one of tenant B's rows by id."""
    found: list[str] = []
    top = body_model(path)

    def walk(node: Any, where: str, model: str | None) -> None:
        if isinstance(node, dict):
            identifier = node.get("id")
            if model and isinstance(identifier, int) and identifier in b_ids.get(model, ()):
                found.append(f"{where}.id={identifier} ({model})")
            for key, value in node.items():
                label = REFERENCES.get(key)
                if label and isinstance(value, int) and value in b_ids.get(label, ()):
                    found.append(f"{where}.{key}={value} ({label})")
                elif isinstance(value, dict | list):
                    walk(value, f"{where}.{key}", label or RESOURCES.get(key))
        elif isinstance(node, list):
            for index, item in enumerate(node):
                walk(item, f"{where}[{index}]", model)

    if isinstance(body, dict) and isinstance(body.get("results"), list):
        walk(body["results"], "results", top)
    else:
        walk(body, "body", top)
    return found


def tenant_b_leaks(response: Any, path: str, data: FuzzData) -> list[str]:
    text = response.content.decode("utf-8", "replace") if response.content else ""
    leaks = []
    if MARKER.lower() in text.lower():
        leaks.append(f"tenant B's marker {MARKER!r} in the body")
    content_type = response.headers.get("content-type", [""])
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    if text and content_type.startswith("application/json"):
        leaks += tenant_b_references(json.loads(text), path, data.b_ids)
    return leaks
