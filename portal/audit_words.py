"""The audit trail in words: "Minji Park changed Premium: Escalation management ✓".

A registry keyed by the audit action holds each action's sentence and its kind (configuration,
work on items, or personal preferences); the apps register theirs in their `AppConfig.ready()`
(`<app>/audit_words.py`), the kernel its own here. An action nobody registered still reads as
words ("… created / changed / removed risk R-1"). The changed fields are listed as
"label: old → new" under the models' verbose names, with the values formatted for the reader:
booleans ✓/✗, dates and times in the named formats, foreign keys by name, choices by label.

`describe(entries)` renders a page of entries with one query per kind of referenced object
(users, plans, …), however many entries there are.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from portal.audit import AuditEntry

CONFIGURATION = "configuration"
WORK = "work"
PERSONAL = "personal"
KIND_LABELS = {
    CONFIGURATION: gettext_lazy("Configuration"),
    WORK: gettext_lazy("Work on items"),
    PERSONAL: gettext_lazy("Personal preferences"),
}

# The key of an extras' result that replaces the action's sentence for one entry.
SENTENCE = "__sentence__"
# (entry, names) -> extra %(name)s values of the sentence
Extras = Callable[[AuditEntry, "Names"], dict[str, str]]
# (entry, names) -> references the extras need: (model label, lookup field, value)
Wants = Callable[[AuditEntry], Iterable[tuple[str, str, Any]]]


@dataclass(frozen=True)
class ActionWords:
    """How one action reads: its sentence (with %(actor)s, %(object)s, %(id)s and the extras),
    its kind, and labels for recorded keys that are no field of the model."""

    code: str
    sentence: Promise | str
    kind: str = CONFIGURATION
    extras: Extras | None = None
    wants: Wants | None = None
    labels: dict[str, Promise | str] = field(default_factory=dict)
    # keys not worth listing as changes (shown in the sentence, or internal)
    hidden: tuple[str, ...] = ()
    # recorded keys and values that are no model field's, in words (None: the default)
    label_of: Callable[[str], str | None] | None = None
    value_of: Callable[[str, Any], str | None] | None = None


REGISTRY: dict[str, ActionWords] = {}


def register_action(
    code: str,
    sentence: Promise | str,
    *,
    kind: str = CONFIGURATION,
    extras: Extras | None = None,
    wants: Wants | None = None,
    labels: dict[str, Promise | str] | None = None,
    hidden: tuple[str, ...] = (),
    label_of: Callable[[str], str | None] | None = None,
    value_of: Callable[[str, Any], str | None] | None = None,
) -> None:
    """Say how the audit action `code` reads. Registering an action twice is an error."""
    if code in REGISTRY:
        raise ValueError(f"audit action {code} is registered twice")
    if kind not in KIND_LABELS:
        raise ValueError(f"unknown audit kind {kind}")
    REGISTRY[code] = ActionWords(
        code, sentence, kind, extras, wants, dict(labels or {}), tuple(hidden), label_of, value_of
    )


def actions_of_kind(kind: str) -> list[str]:
    return sorted(code for code, words in REGISTRY.items() if words.kind == kind)


def kind_of(action: str) -> str:
    words = REGISTRY.get(action)
    return words.kind if words else CONFIGURATION


@dataclass(frozen=True)
class Change:
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class Described:
    entry: AuditEntry
    summary: str
    changes: list[Change]
    kind: str


def model_of(object_type: str) -> type[models.Model] | None:
    try:
        return apps.get_model(object_type)
    except (LookupError, ValueError):
        return None


def _field(model: type[models.Model] | None, name: str) -> models.Field | None:
    if model is None:
        return None
    try:
        found = model._meta.get_field(name)
    except FieldDoesNotExist:
        with contextlib.suppress(FieldDoesNotExist):  # recorded by attname: "assignee_id"
            if name.endswith("_id"):
                found = model._meta.get_field(name[:-3])
                return found if isinstance(found, models.ForeignKey) else None
        return None
    return found if isinstance(found, models.Field) else None


class Names:
    """The names of referenced objects, fetched in one query per (model, lookup field)."""

    def __init__(self) -> None:
        self._wanted: dict[tuple[str, str], set[Any]] = {}
        self._found: dict[tuple[str, str], dict[str, str]] = {}

    def want(self, model_label: str, lookup: str, value: Any) -> None:
        if value in (None, "", []):
            return
        values = value if isinstance(value, list) else [value]
        self._wanted.setdefault((model_label, lookup), set()).update(
            item for item in values if isinstance(item, (str, int))
        )

    def fetch(self) -> None:
        for (label, lookup), values in self._wanted.items():
            model = model_of(label)
            found = self._found.setdefault((label, lookup), {})
            if model is None or not values:
                continue
            if lookup == "pk":
                values = {value for value in values if str(value).isdigit()}
            # select_related(): what a name reads through required foreign keys (an
            # engagement's organization and plan) comes in the same query
            rows = model._default_manager.filter(**{f"{lookup}__in": list(values)})
            for row in rows.select_related():
                found[str(getattr(row, lookup))] = str(row)
        self._wanted = {}

    def name(self, model_label: str, lookup: str, value: Any) -> str | None:
        return self._found.get((model_label, lookup), {}).get(str(value))


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def format_value(model: type[models.Model] | None, name: str, value: Any, names: Names) -> str:
    """A recorded value as the reader reads it."""
    if _is_empty(value):
        return "—"
    found = _field(model, name)
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(found, models.ForeignKey):
        label = found.related_model._meta.label_lower  # type: ignore[union-attr]
        return names.name(label, "pk", value) or f"#{value}"
    if found is not None and found.choices:
        labels = {str(key): str(text) for key, text in found.flatchoices}
        if isinstance(value, list):
            return ", ".join(labels.get(str(item), str(item)) for item in value)
        return labels.get(str(value), str(value))
    if isinstance(found, models.DateTimeField) and isinstance(value, str):
        moment = parse_datetime(value)
        if moment is not None:
            if timezone.is_aware(moment):
                moment = timezone.localtime(moment)
            return date_format(moment, "SHORT_DATETIME_FORMAT")
    if isinstance(found, models.DateField) and isinstance(value, str):
        day = parse_date(value)
        if day is not None:
            return date_format(day, "DATE_FORMAT")
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return _text(value)


def _text(value: Any) -> str:
    if isinstance(value, (date, datetime)):
        return date_format(value, "SHORT_DATETIME_FORMAT")
    text = str(value)
    return text if len(text) <= 120 else text[:119] + "…"


def field_label(model: type[models.Model] | None, name: str, words: ActionWords | None) -> str:
    if words is not None and name in words.labels:
        return str(words.labels[name])
    if words is not None and words.label_of is not None:
        found_label = words.label_of(name)
        if found_label:
            return found_label
    found = _field(model, name)
    if found is not None:
        label = str(found.verbose_name)
        return label[:1].upper() + label[1:]
    return name.replace("_", " ").capitalize()


def actor_subject(entry: AuditEntry) -> str:
    """Who did it, as the subject of the sentence ("민지 님이" in Korean)."""
    if entry.actor is None:
        return pgettext("audit subject", "The system")
    return pgettext("audit subject", "%(name)s") % {"name": str(entry.actor)}


def object_type_label(object_type: str) -> str:
    model = model_of(object_type)
    if model is None:
        return object_type.rsplit(".", 1)[-1].replace("_", " ")
    return str(model._meta.verbose_name)


def _object_name(entry: AuditEntry, names: Names) -> str:
    if entry.object_repr:
        return entry.object_repr
    return names.name(entry.object_type, "pk", entry.object_id) or f"#{entry.object_id}"


def _default_sentence(entry: AuditEntry) -> str:
    if entry.before is None and entry.after is not None:
        return _("%(actor)s created %(type)s %(object)s")
    if entry.after is None and entry.before is not None:
        return _("%(actor)s removed %(type)s %(object)s")
    return _("%(actor)s changed %(type)s %(object)s")


def _changes(entry: AuditEntry, names: Names, words: ActionWords | None) -> list[Change]:
    model = model_of(entry.object_type)
    before = entry.before if isinstance(entry.before, dict) else {}
    after = entry.after if isinstance(entry.after, dict) else {}
    hidden = set(words.hidden) if words else set()
    keys = [*after, *(key for key in before if key not in after)]
    rows = []
    for key in keys:
        if key in hidden or key in ("password", "id"):
            continue
        old, new = before.get(key), after.get(key)
        if old == new and entry.before is not None and entry.after is not None:
            continue
        if entry.before is None and _is_empty(new):
            continue

        def shown(value: Any, key: str = key) -> str:
            if words is not None and words.value_of is not None:
                text = words.value_of(key, value)
                if text is not None:
                    return text
            return format_value(model, key, value, names)

        rows.append(
            Change(
                label=field_label(model, key, words),
                old="" if entry.before is None else shown(old),
                new="" if entry.after is None else shown(new),
            )
        )
    return rows


def _want_references(entry: AuditEntry, names: Names) -> None:
    model = model_of(entry.object_type)
    if not entry.object_repr:
        names.want(entry.object_type, "pk", entry.object_id)
    for values in (entry.before, entry.after):
        if not isinstance(values, dict):
            continue
        for key, value in values.items():
            found = _field(model, key)
            if isinstance(found, models.ForeignKey):
                names.want(found.related_model._meta.label_lower, "pk", value)  # type: ignore[union-attr]
    words = REGISTRY.get(entry.action)
    if words is not None and words.wants is not None:
        for label, lookup, value in words.wants(entry):
            names.want(label, lookup, value)


def describe(entries: Sequence[AuditEntry]) -> list[Described]:
    """Each entry in words, in the current language. Entries come with their actors
    (select_related); the objects they name are fetched in one query per model."""
    names = Names()
    for entry in entries:
        _want_references(entry, names)
    names.fetch()
    described = []
    for entry in entries:
        words = REGISTRY.get(entry.action)
        values = {
            "actor": actor_subject(entry),
            "object": _object_name(entry, names),
            "id": entry.object_id,
            "type": object_type_label(entry.object_type),
        }
        if words is None:
            sentence = _default_sentence(entry)
        else:
            sentence = str(words.sentence)
            if words.extras is not None:
                extras = words.extras(entry, names)
                # an extra may choose another sentence for this entry ("to the queue")
                sentence = str(extras.pop(SENTENCE, sentence))
                values.update(extras)
        try:
            summary = sentence % values
        except (KeyError, ValueError, TypeError):
            summary = _default_sentence(entry) % values
        described.append(
            Described(
                entry=entry,
                summary=summary,
                changes=_changes(entry, names, words),
                kind=words.kind if words else CONFIGURATION,
            )
        )
    return described


def after_value(entry: AuditEntry, key: str) -> Any:
    return entry.after.get(key) if isinstance(entry.after, dict) else None


def before_value(entry: AuditEntry, key: str) -> Any:
    return entry.before.get(key) if isinstance(entry.before, dict) else None


def value_of(entry: AuditEntry, key: str, names: Names) -> str:
    """An `after` value (or the `before` one for a removal) formatted like a change."""
    value = after_value(entry, key)
    if value is None:
        value = before_value(entry, key)
    return format_value(model_of(entry.object_type), key, value, names)


def _notification_kind_label(code: str) -> str | None:
    from portal.notification_preferences.kinds import KINDS

    kind = KINDS.get(code)
    return str(kind.label) if kind else None


def _notification_channels(code: str, channels: Any) -> str | None:
    from portal.notification_preferences.kinds import channel_label

    if not isinstance(channels, list):
        return None
    return ", ".join(channel_label(name) for name in channels) or _("none")


def _register_kernel_actions() -> None:
    register_action("user.provision", gettext_lazy("%(actor)s added %(object)s as a user"))
    register_action("user.update", gettext_lazy("%(actor)s changed the account of %(object)s"))
    register_action(
        "user.preferences",
        gettext_lazy("%(actor)s changed their preferences"),
        kind=PERSONAL,
    )
    register_action(
        "notification_preferences.update",
        gettext_lazy("%(actor)s changed their notification settings"),
        kind=PERSONAL,
        label_of=_notification_kind_label,
        value_of=_notification_channels,
    )
    register_action(
        "api_token.create",
        gettext_lazy("%(actor)s created the API token %(object)s"),
        kind=PERSONAL,
    )
    register_action(
        "api_token.revoke",
        gettext_lazy("%(actor)s revoked the API token %(object)s"),
        kind=PERSONAL,
    )
    register_action(
        "organization.create", gettext_lazy("%(actor)s created the organization %(object)s")
    )
    register_action(
        "organization.update", gettext_lazy("%(actor)s changed the organization %(object)s")
    )
    register_action(
        "organization.logo",
        gettext_lazy("%(actor)s changed the logo of the organization %(object)s"),
    )
    register_action(
        "sso_connection.create",
        gettext_lazy("%(actor)s connected an organization to its identity provider %(object)s"),
    )
    register_action(
        "sso_connection.update",
        gettext_lazy("%(actor)s changed the single sign-on %(object)s"),
    )
    register_action(
        "sso_connection.delete",
        gettext_lazy("%(actor)s removed the single sign-on %(object)s"),
    )
    register_action(
        "sso.member_join",
        gettext_lazy("%(actor)s joined as a member through single sign-on"),
    )


_register_kernel_actions()
