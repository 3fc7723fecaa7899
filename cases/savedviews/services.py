"""Saved views of the case list: writes. A view only stores a query string (filters and sort);
the list answers it through the viewer's scope, so a view never shows more than its viewer may
see."""

from __future__ import annotations

from urllib.parse import urlencode

from django.db import transaction
from django.http import QueryDict
from django.utils.translation import gettext as _

from cases.savedviews.models import SavedView
from portal.accounts.models import User
from portal.audit import audit
from portal.errors import DomainError, InvalidInput
from portal.locks import lock_users

MAX_VIEWS_PER_USER = 50
NAME_MAX = 80  # SavedView.name
QUERY_MAX = 1000  # SavedView.query
# What a view keeps of the list's query string: its filters and its sort (not the page).
QUERY_KEYS = ("q", "engagement", "status", "kind", "severity", "state", "queue", "sort")


class SavedViewNotFound(DomainError):
    """Another user's view answers like a missing one."""

    status_code = 404
    code = "not_found"


def clean_query(raw: str) -> str:
    """The list's query string reduced to its filters and sort, in a fixed order; empty values
    are dropped (they filter nothing)."""
    data = QueryDict(raw.lstrip("?"))
    pairs = [(key, value) for key in QUERY_KEYS for value in data.getlist(key) if value.strip()]
    return urlencode(pairs)


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise InvalidInput(fields={"name": [_("Give the view a name.")]})
    if len(name) > NAME_MAX:
        raise InvalidInput(fields={"name": [_("At most %(max)d characters.") % {"max": NAME_MAX}]})
    return name


def _check_unique(owner: User, name: str, *, exclude: int | None = None) -> None:
    taken = SavedView.objects.filter(owner=owner, name__iexact=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise InvalidInput(fields={"name": [_("You already have a view with this name.")]})


def _own(acting_user: User, view: SavedView) -> SavedView:
    """The view, locked, if it is the actor's; else not found."""
    mine = SavedView.objects.select_for_update().filter(pk=view.pk, owner=acting_user).first()
    if mine is None:
        raise SavedViewNotFound(_("Not found."))
    return mine


def _make_default(view: SavedView) -> None:
    SavedView.objects.filter(owner_id=view.owner_id, is_default=True).exclude(pk=view.pk).update(
        is_default=False
    )


def _state(view: SavedView) -> dict[str, object]:
    return {"name": view.name, "query": view.query, "is_default": view.is_default}


@transaction.atomic
def saved_view_create(
    *, acting_user: User, name: str, query: str, is_default: bool = False
) -> SavedView:
    """Save the list's current filters and sort under a name of the actor's own (unique per
    user, whatever the case); at most `MAX_VIEWS_PER_USER` views each."""
    name = _clean_name(name)
    cleaned = clean_query(query)
    if len(cleaned) > QUERY_MAX:
        raise InvalidInput(fields={"query": [_("These filters are too long to save.")]})
    lock_users([acting_user])  # two saves at once cannot both pass the count
    if SavedView.objects.filter(owner=acting_user).count() >= MAX_VIEWS_PER_USER:
        raise InvalidInput(
            fields={
                "name": [
                    _(
                        "You have %(max)d saved views, the most one person may keep. Delete one "
                        "first."
                    )
                    % {"max": MAX_VIEWS_PER_USER}
                ]
            }
        )
    _check_unique(acting_user, name)
    view = SavedView(owner=acting_user, name=name, query=cleaned, is_default=is_default)
    if is_default:
        _make_default(view)
    view.save()
    audit(actor=acting_user, action="saved_view.create", instance=view, after=_state(view))
    return view


@transaction.atomic
def saved_view_rename(*, acting_user: User, view: SavedView, name: str) -> SavedView:
    view = _own(acting_user, view)
    name = _clean_name(name)
    _check_unique(acting_user, name, exclude=view.pk)
    before = _state(view)
    view.name = name
    view.save(update_fields=["name"])
    audit(
        actor=acting_user,
        action="saved_view.rename",
        instance=view,
        before=before,
        after=_state(view),
    )
    return view


@transaction.atomic
def saved_view_set_default(*, acting_user: User, view: SavedView, is_default: bool) -> SavedView:
    """Make the view the one the case list opens with (the actor's other views lose the
    flag), or stop it being so."""
    view = _own(acting_user, view)
    before = _state(view)
    if is_default:
        _make_default(view)
    view.is_default = is_default
    view.save(update_fields=["is_default"])
    audit(
        actor=acting_user,
        action="saved_view.default",
        instance=view,
        before=before,
        after=_state(view),
    )
    return view


@transaction.atomic
def saved_view_delete(*, acting_user: User, view: SavedView) -> None:
    view = _own(acting_user, view)
    before = _state(view)
    audit(actor=acting_user, action="saved_view.delete", instance=view, before=before)
    view.delete()
