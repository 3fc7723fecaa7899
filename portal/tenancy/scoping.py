"""Tenant scoping that cannot be forgotten.

Every tenant-owned model carries a `TenantManager`. Inside a scope (opened for the signed-in
user by middleware, for the token's owner by the API base view, or as the system by tasks and
commands) its querysets are filtered to what the scope's actor may see. Outside any scope a
query of a tenant-owned model raises `ScopeError` instead of returning everything, so code that
forgets the scope fails loudly in tests rather than leaking another tenant's rows.

The escape hatches are named and live here: `unscoped(Model, why)` for an ORM query that must
see every tenant's rows whatever the scope, `unscoped_raw(Model, sql, params, why)` for a raw
query of a model and `raw_sql(why)` for a cursor. Each takes the reason, which is logged at
debug level; tests/portal/test_escape_hatches.py fails on any `_base_manager`, `.raw(` or
cursor outside this module (and portal/db.py, whose vendor statements run through `raw_sql`).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models import Q
from django.db.models.query import ModelIterable, get_related_populators  # type: ignore[attr-defined]

if TYPE_CHECKING:
    from django.db.models.query import RawQuerySet

    from portal.accounts.models import User

_QS = TypeVar("_QS", bound=models.QuerySet)
logger = logging.getLogger(__name__)
M = TypeVar("M", bound=models.Model)


class ScopeError(Exception):
    """A tenant-owned model was queried with no tenant scope open."""


# Apps that give managers engagements register a function `user -> engagement ids` here, so
# tenancy does not import them (engagements depend on tenancy, not the other way round).
_managed_engagement_sources: list[Callable[[User], Iterable[int]]] = []
_engagement_organization_sources: list[Callable[[Iterable[int]], Iterable[int]]] = []


def register_manager_visibility(
    *,
    engagements_of: Callable[[User], Iterable[int]],
    organizations_of: Callable[[Iterable[int]], Iterable[int]],
) -> None:
    """Teach scopes which engagements a manager serves, and their organizations."""
    _managed_engagement_sources.append(engagements_of)
    _engagement_organization_sources.append(organizations_of)


# `organization ids -> ids of the staff serving them`, registered by the apps that staff them.
_staff_serving_sources: list[Callable[[Iterable[int]], Iterable[int]]] = []


def register_staff_serving(source: Callable[[Iterable[int]], Iterable[int]]) -> None:
    """Teach scopes who serves an organization (a customer sees the people serving them)."""
    _staff_serving_sources.append(source)


@dataclass(eq=False)
class Scope:
    """What one actor may see. `everything` is for provider admins and the system."""

    actor: User | None
    everything: bool = False
    reason: str = ""
    _extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_customer(self) -> bool:
        return not self.everything and self.actor is not None and self.actor.is_customer

    @cached_property
    def engagement_ids(self) -> frozenset[int]:
        """Engagements a service manager manages or deputizes (empty for customers)."""
        if self.everything or self.actor is None or self.actor.is_customer:
            return frozenset()
        ids: set[int] = set()
        for source in _managed_engagement_sources:
            ids.update(source(self.actor))
        return frozenset(ids)

    @cached_property
    def organization_ids(self) -> frozenset[int]:
        """Organizations whose data this actor may see."""
        if self.everything or self.actor is None:
            return frozenset()
        if self.actor.is_customer:
            from portal.tenancy.models import Membership

            return frozenset(
                unscoped(Membership, "a customer's scope is built from their memberships")
                .filter(user=self.actor, is_active=True)
                .values_list("organization_id", flat=True)
            )
        ids: set[int] = set()
        for source in _engagement_organization_sources:
            ids.update(source(self.engagement_ids))
        return frozenset(ids)

    def filter_users(self, queryset: _QS) -> _QS:
        """The people this actor may see, the one rule for users (who belong to several
        organizations, or to none as provider staff, so they have no `tenant_path`).

        Admins and the system see everyone; everyone else sees themselves and whom they work
        with: customers the people of their organizations and the staff serving them; managers
        provider staff and the people of the organizations they serve."""
        if self.everything:
            return queryset
        if self.actor is None:
            return queryset.none()
        from portal.accounts.models import User
        from portal.tenancy.models import Membership

        organization_ids = self.organization_ids
        members = unscoped(Membership, "the scope's own rule for people").filter(
            organization_id__in=organization_ids, is_active=True
        )
        visible = Q(pk=self.actor.pk) | Q(pk__in=members.values("user_id"))
        if self.actor.is_service_manager:
            visible |= Q(kind__in=[User.Kind.ADMIN, User.Kind.MANAGER])
        for source in _staff_serving_sources:
            visible |= Q(pk__in=list(source(organization_ids)))
        return queryset.filter(visible)

    def filter(self, queryset: _QS, model: type[TenantOwned]) -> _QS:
        if self.everything:
            return queryset
        if not self.is_customer and model.tenant_engagement_path is not None:
            return queryset.filter(**{f"{model.tenant_engagement_path}__in": self.engagement_ids})
        return queryset.filter(**{f"{model.tenant_path}__in": self.organization_ids})


_current_scope: ContextVar[Scope | None] = ContextVar("tenant_scope", default=None)


def current_scope() -> Scope:
    scope = _current_scope.get()
    if scope is None:
        raise ScopeError("No tenant scope is open: use tenant_scope(user) or system_scope().")
    return scope


def get_scope_or_none() -> Scope | None:
    return _current_scope.get()


def scope_for(user: User) -> Scope:
    """The scope a signed-in user works in; refuses anonymous users and None."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise ScopeError("A tenant scope needs a signed-in user.")
    if not user.is_active:
        raise ScopeError("Inactive users have no tenant scope.")
    return Scope(actor=user, everything=user.is_provider_admin)


def scope_covers_engagements(ids: Iterable[int]) -> bool:
    """Whether the open scope limits engagements by id (a service manager's: the ones they
    serve) and `ids` are all among them. A statement over just those engagements may then name
    them alone, through `unscoped` with this check as its reason: PostgreSQL's planner, given
    the scope's id list and the caller's on the same column, multiplies their selectivities
    and reads every engagement of every tenant instead of looking the ids up (issue 17). Check
    on every call, outside any kept statement's builder: the ids are its values."""
    scope = current_scope()
    if scope.everything or scope.actor is None or scope.is_customer:
        return False
    return set(ids) <= scope.engagement_ids


@contextmanager
def tenant_scope(user: User) -> Iterator[Scope]:
    """Open the scope of `user` for the enclosed queries."""
    token = _current_scope.set(scope_for(user))
    try:
        yield _current_scope.get()  # type: ignore[misc]
    finally:
        _current_scope.reset(token)


@contextmanager
def system_scope(reason: str) -> Iterator[Scope]:
    """See every tenant: for tasks, commands and provisioning. Say why; it shows in reviews."""
    if not reason:
        raise ValueError("system_scope needs a reason.")
    token = _current_scope.set(Scope(actor=None, everything=True, reason=reason))
    try:
        yield _current_scope.get()  # type: ignore[misc]
    finally:
        _current_scope.reset(token)


def activate(scope: Scope | None) -> object:
    """Make `scope` current until `deactivate(token)`: for request cycles that cannot use `with`.

    `None` closes any scope around the request (anonymous requests see no tenant data).
    """
    return _current_scope.set(scope)


def deactivate(token: object) -> None:
    _current_scope.reset(token)  # type: ignore[arg-type]


def _said(why: str, what: str) -> None:
    if not isinstance(why, str) or not why.strip():
        raise ValueError(f"{what} needs a reason.")
    logger.debug("%s: %s", what, why)


def unscoped(model: type[M], why: str) -> models.QuerySet[M]:
    """Every row of `model`, whatever scope is open (or none): the one way past TenantManager.

    For what is a rule across tenants (the manager's cap counts every engagement), builds a
    scope, or locks rows by key. Say why; the reason is logged at debug level."""
    _said(why, f"unscoped({model.__name__})")
    return model._base_manager.all()


def unscoped_raw(model: type[M], sql: str, params: Sequence[Any], why: str) -> RawQuerySet[M]:
    """A raw query of `model` past TenantManager (see `unscoped`). Say why."""
    _said(why, f"unscoped_raw({model.__name__})")
    return model._base_manager.raw(sql, params)


@contextmanager
def raw_sql(why: str, *, using: str = DEFAULT_DB_ALIAS, driver: bool = False) -> Iterator[Any]:
    """A cursor for a statement the ORM cannot say; no scope applies to it. Say why.

    `driver` gives the database driver's own cursor (e.g. psycopg's COPY), on an open
    connection."""
    _said(why, "raw_sql")
    connection = connections[using]
    if driver:
        with connection.connection.cursor() as cursor:
            yield cursor
        return
    with connection.cursor() as wrapped:
        yield wrapped


class UnscopedQuerySet(models.QuerySet):
    """Returned outside any scope: building it is allowed, running it raises ScopeError."""

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise ScopeError(
            f"{self.model.__name__} is tenant-owned and was queried with no tenant scope open."
        )

    _fetch_all = _refuse
    count = _refuse
    exists = _refuse
    aggregate = _refuse
    update = _refuse
    delete = _refuse
    iterator = _refuse
    in_bulk = _refuse
    explain = _refuse
    contains = _refuse
    resolve_expression = _refuse  # used as a subquery: filter(x__in=unscoped)
    _update = _refuse
    _raw_delete = _refuse


class TenantQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> TenantQuerySet:
        """Narrow to what `user` may see (on top of the open scope)."""
        return scope_for(user).filter(self, self.model)


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):  # type: ignore[misc]
    """The default manager of tenant-owned models: scoped, or refusing to run."""

    def get_queryset(self) -> models.QuerySet:
        scope = get_scope_or_none()
        if scope is None:
            return UnscopedQuerySet(model=self.model, using=self._db, hints=self._hints)
        return scope.filter(super().get_queryset(), self.model)


class ScopedUserManager(models.Manager):
    """`User.visible`: the people the open scope may see (`Scope.filter_users`), refusing to run
    with no scope open. (`User.objects` stays whole: signing in finds a user before any scope.)"""

    def get_queryset(self) -> models.QuerySet:
        scope = get_scope_or_none()
        if scope is None:
            return UnscopedQuerySet(model=self.model, using=self._db, hints=self._hints)  # type: ignore[attr-defined]
        return scope.filter_users(super().get_queryset())


class TenantOwned(models.Model):
    """Base of every tenant-owned model.

    `tenant_path` is the lookup from the model to its organization's id ("pk" for Organization,
    "organization", "engagement__organization"); `tenant_engagement_path`, where the model
    belongs to one engagement, lets managers see exactly their engagements' rows.
    """

    tenant_path: str = "organization"
    tenant_engagement_path: str | None = None

    # Deletion cascades and forward relations (membership.organization) use Django's plain
    # base manager; everything else goes through this one.
    objects = TenantManager()

    class Meta:
        abstract = True


# --- Statements compiled once per scope, kept across requests ---------------------------------

# Stand-ins for the values a statement is run with, while it is compiled: far below any id,
# and for a time or a date, far before any.
_STAND_IN = -(2**62)
_TIME_STAND_IN = datetime(1000, 1, 1, tzinfo=UTC)
_DATE_STAND_IN = date(1000, 1, 1)
_COMPILED_PREFIX = "compiled:"
_INSTANCES_PREFIX = "instances:"
# A parameter this far below zero, or a time or date before this, can only come from a stand-in.
_STAND_IN_FLOOR = -(2**61)
_STAND_IN_YEARS = 1100

Value = int | datetime | date


@dataclass(frozen=True)
class _Instances:
    """How ModelIterable makes model instances of a statement's rows (query.py), kept."""

    model: type[models.Model]
    init_list: tuple[str, ...]
    start: int
    end: int
    related: tuple[Any, ...]  # RelatedPopulator: select_related's objects
    annotations: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    positions: tuple[tuple[int, ...], ...]  # where each value goes in `params`
    names: tuple[str, ...]
    converters: tuple[tuple[int, tuple[Callable[..., Any], ...], Any], ...]
    using: str
    instances: _Instances | None = None


def _kind(value: Value) -> str:
    return "t" if isinstance(value, datetime) else "d" if isinstance(value, date) else "i"


def _stand_ins(values: Sequence[Value]) -> list[Value]:
    stand_ins: list[Value] = []
    for i, value in enumerate(values):
        kind = _kind(value)
        if kind == "t":
            stand_ins.append(_TIME_STAND_IN + timedelta(microseconds=i))
        elif kind == "d":
            stand_ins.append(_DATE_STAND_IN + timedelta(days=i))
        else:
            stand_ins.append(_STAND_IN + i)
    return stand_ins


def _parameter(value: Value, using: str) -> Any:
    """`value` as the compiler passes it to the driver: an integer, or a time or a date as the
    database's DateTimeField and DateField lookups adapt it (unchanged for PostgreSQL, text for
    SQLite)."""
    if isinstance(value, datetime):
        return connections[using].ops.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return connections[using].ops.adapt_datefield_value(value)
    return int(value)


def _looks_like_a_stand_in(param: Any) -> bool:
    """A parameter made from a stand-in (say `now - 1 day` computed from one): the value it
    stands for would be lost in the kept statement."""
    if isinstance(param, bool):
        return False
    if isinstance(param, int):
        return param < _STAND_IN_FLOOR
    if isinstance(param, date):
        return param.year < _STAND_IN_YEARS
    if isinstance(param, str) and len(param) >= 4 and param[:4].isdigit():
        return int(param[:4]) < _STAND_IN_YEARS and param[4:5] == "-"  # SQLite's text dates
    return False


def _compile(
    queryset: models.QuerySet, stand_ins: Sequence[Value], *, instances: bool = False
) -> _Compiled | None:
    query = queryset.query
    if instances and (
        queryset._iterable_class is not ModelIterable
        or bool(getattr(queryset, "_prefetch_related_lookups", ()))
        or bool(getattr(queryset, "_known_related_objects", {}))
    ):
        return None  # only plain model instances (select_related allowed) are kept
    compiler = query.get_compiler(queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return None
    params = tuple(params)
    positions = []
    for value in stand_ins:
        stand_in = _parameter(value, queryset.db)
        found = tuple(
            i
            for i, param in enumerate(params)
            if type(param) is type(stand_in) and param == stand_in
        )
        if not found:
            return None  # the statement does not take each value as a parameter
        positions.append(found)
    placed = {i for found in positions for i in found}
    if any(_looks_like_a_stand_in(p) for i, p in enumerate(params) if i not in placed):
        return None  # a value was changed before it became a parameter: not a value
    fields = [selected[0] for selected in compiler.select[: compiler.col_count]]
    converters = tuple(
        (position, tuple(functions), expression)
        for position, (functions, expression) in compiler.get_converters(fields).items()
    )
    if instances:
        klass_info, select = compiler.klass_info, compiler.select
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        recipe = _Instances(
            model=klass_info["model"],
            init_list=tuple(f[0].target.attname for f in select[start:end]),
            start=start,
            end=end,
            related=tuple(get_related_populators(klass_info, select, queryset.db)),
            annotations=tuple(compiler.annotation_col_map.items()),
        )
        return _Compiled(sql, params, tuple(positions), (), converters, queryset.db, recipe)
    names = (*query.extra_select, *query.values_select, *query.annotation_select)
    if len(names) != compiler.col_count:
        return None
    return _Compiled(sql, params, tuple(positions), names, converters, queryset.db)


def _as_dicts(queryset: models.QuerySet) -> list[dict[str, Any]]:
    query = queryset.query
    names = (*query.extra_select, *query.values_select, *query.annotation_select)
    return [
        row if isinstance(row, dict) else dict(zip(names, row, strict=True)) for row in queryset
    ]


class _RecordingScope(Scope):
    """The open scope, as a statement is built: it answers as the scope does and notes which
    of its contents the statement read, so the statement is kept for scopes with the same
    contents. A statement that reads what a scope keeps aside (`_extra`) is kept for its
    scope alone."""

    def __init__(self, real: Scope) -> None:
        super().__init__(actor=real.actor, everything=real.everything, reason=real.reason)
        self._real = real
        self.read: set[str] = set()
        self.read_extra = False

    @property
    def engagement_ids(self) -> frozenset[int]:
        self.read.add("engagement_ids")
        return self._real.engagement_ids

    @property
    def organization_ids(self) -> frozenset[int]:
        self.read.add("organization_ids")
        return self._real.organization_ids

    @property
    def _extra(self) -> dict[str, Any]:
        self.read_extra = True
        return self._real._extra

    @_extra.setter
    def _extra(self, value: dict[str, Any]) -> None:
        pass  # the dataclass's __init__ sets it; the real scope's is the one read


@dataclass(frozen=True)
class _Kept:
    compiled: _Compiled | None
    contents: tuple[tuple[str, frozenset[int]], ...]  # what of the scope the statement read


# Statements kept across requests, by shape and actor, each with the scope's contents it was
# built in: a later scope of the same actor reuses it only while those contents are the same.
_KEPT_MAX = 2048
_kept: OrderedDict[tuple[Any, ...], _Kept] = OrderedDict()
_kept_lock = threading.Lock()


def _actor_key(scope: Scope) -> tuple[Any, ...]:
    actor = scope.actor
    return (
        scope.everything,
        getattr(actor, "pk", None),
        getattr(actor, "kind", None),
        bool(getattr(actor, "is_active", False)),
    )


def _build_kept(
    scope: Scope,
    build: Callable[[Sequence[Any]], models.QuerySet],
    values: Sequence[Value],
    instances: bool,
    wrap: Callable[[_Compiled], _Compiled] | None = None,
) -> tuple[_Compiled | None, _Kept | None]:
    """Compile `build` with stand-ins under a recording scope (then `wrap` the statement):
    the statement, and what to keep across requests (None when it read the scope's private
    store)."""
    recording = _RecordingScope(scope)
    token = _current_scope.set(recording)
    try:
        stand_ins = _stand_ins(values)
        compiled = _compile(build(stand_ins), stand_ins, instances=instances)
    finally:
        _current_scope.reset(token)
    if compiled is not None and wrap is not None:
        compiled = wrap(compiled)
    if recording.read_extra:
        return compiled, None
    contents = tuple((name, getattr(scope, name)) for name in sorted(recording.read))
    return compiled, _Kept(compiled, contents)


def _kept_for(key: tuple[Any, ...], scope: Scope) -> _Kept | None:
    with _kept_lock:
        kept = _kept.get(key)
        if kept is not None:
            _kept.move_to_end(key)
    if kept is None:
        return None
    if any(getattr(scope, name) != contents for name, contents in kept.contents):
        return None
    return kept


def _keep(key: tuple[Any, ...], kept: _Kept) -> None:
    with _kept_lock:
        _kept[key] = kept
        _kept.move_to_end(key)
        while len(_kept) > _KEPT_MAX:
            _kept.popitem(last=False)


def forget_compiled_statements() -> None:
    """Drop every statement kept across requests (tests that change how one is built)."""
    with _kept_lock:
        _kept.clear()


def rows_compiled_once(
    key: str, build: Callable[[Sequence[Any]], models.QuerySet], values: Sequence[Value]
) -> list[dict[str, Any]]:
    """The rows of `build(values)` — a `.values()` or `.values_list()` queryset (rows as
    dicts either way) of a tenant-owned model built through its scoped manager, taking each of
    `values` (integers; aware times compared with a DateTimeField; dates compared with a
    DateField) as a parameter — with its SQL compiled once, not on every request.

    Django compiles a queryset anew on every run; for the API's reads and the pages' figures
    that is most of the time a request spends in Python (issue 17). The statement is built
    through the scope like any other (the scope's filter is in it), with stand-ins for the
    values. It is kept in the scope, and in the process for later scopes of the same actor
    while the contents of the scope it read (the engagements served, the organizations seen)
    are the same: a change of either builds it again, so no statement ever runs with another
    scope's filter. `key` names the statement's shape: the same key must always build the
    same query but for `values` (anything else it depends on belongs in the key). A statement
    the stand-ins cannot be found in, or that alters one before it becomes a parameter, runs
    as a plain queryset."""
    compiled = _statement(key, build, values, instances=False)
    if compiled is None:
        return _as_dicts(build(values))
    names = compiled.names
    return [dict(zip(names, row, strict=True)) for row in _run(compiled, values)]


def count_compiled_once(
    key: str,
    build: Callable[[Sequence[Any]], models.QuerySet],
    values: Sequence[Value],
    *,
    at_most: int | None = None,
) -> int:
    """How many rows `build(values)` has: `rows_compiled_once` of one `COUNT` column (a plain
    function, so no GROUP BY: always one row), for the counts a page shows on every request.

    With `at_most`, counting stops there (the answer is at most `at_most`): a count of the
    first `at_most` rows (`SELECT COUNT(*) FROM (… LIMIT at_most)`), so a badge over a whole
    provider's items reads a bounded number of rows whatever the provider's size (issue 17)."""
    if at_most is None:
        count = models.Func(models.F("pk"), function="COUNT", output_field=models.IntegerField())
        rows = rows_compiled_once(
            key, lambda given: build(given).order_by().values(n=count), values
        )
        return (rows[0]["n"] or 0) if rows else 0
    if at_most < 1:
        raise ValueError("at_most must be at least 1.")

    def bounded(given: Sequence[Any]) -> models.QuerySet:
        return build(given).order_by().values("pk")[:at_most]

    compiled = _statement(f"{key}:at_most={at_most}", bounded, values, wrap=_count_of)
    if compiled is None:
        return bounded(values).count()
    return int(_run(compiled, values)[0][0] or 0)


def _count_of(compiled: _Compiled) -> _Compiled:
    """The statement counting the rows `compiled` reads."""
    return replace(
        compiled,
        sql=f'SELECT COUNT(*) AS "n" FROM ({compiled.sql}) "bounded"',  # noqa: S608 (ours)
        names=("n",),
        converters=(),
    )


def instances_compiled_once(
    key: str, build: Callable[[Sequence[Any]], models.QuerySet[M]], values: Sequence[Value]
) -> list[M]:
    """`rows_compiled_once` for a queryset of model instances (with `select_related`,
    `only`, annotations; not `prefetch_related`): the instances Django's ModelIterable makes
    of the rows of the kept statement."""
    compiled = _statement(key, build, values, instances=True)
    if compiled is None or compiled.instances is None:
        return list(build(values))
    recipe, using = compiled.instances, compiled.using
    objects = []
    for row in _run(compiled, values):
        obj = recipe.model.from_db(using, recipe.init_list, row[recipe.start : recipe.end])
        for populator in recipe.related:
            populator.populate(row, obj)
        for name, position in recipe.annotations:
            setattr(obj, name, row[position])
        objects.append(obj)
    return objects  # type: ignore[return-value]


def _statement(
    key: str,
    build: Callable[[Sequence[Any]], models.QuerySet],
    values: Sequence[Value],
    *,
    instances: bool = False,
    wrap: Callable[[_Compiled], _Compiled] | None = None,
) -> _Compiled | None:
    """The kept statement of `key` for the open scope (built when there is none yet), or None
    when it cannot be kept and the queryset must run as it is."""
    scope = current_scope()
    prefix = _INSTANCES_PREFIX if instances else _COMPILED_PREFIX
    shape = f"{prefix}{key}:{len(values)}"
    kinds = "".join(_kind(value) for value in values)
    if kinds.strip("i"):  # and which of them are times or dates
        shape += ":" + kinds
    compiled: _Compiled | bool | None = scope._extra.get(shape)
    if compiled is None:
        process_key = (shape, _actor_key(scope), connections[DEFAULT_DB_ALIAS].vendor)
        kept = _kept_for(process_key, scope)
        if kept is None:
            built, kept = _build_kept(scope, build, values, instances, wrap)
            if kept is not None:
                _keep(process_key, kept)
            compiled = built or False
        else:
            compiled = kept.compiled or False
        scope._extra[shape] = compiled
    return compiled if isinstance(compiled, _Compiled) else None


def _run(compiled: _Compiled, values: Sequence[Value]) -> list[Any]:
    """The rows of `compiled` run with `values`, each value converted as the ORM converts it."""
    params = list(compiled.params)
    for places, value in zip(compiled.positions, values, strict=True):
        parameter = _parameter(value, compiled.using)
        for position in places:
            params[position] = parameter
    connection = connections[compiled.using]
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, params)
        rows: list[Any] = cursor.fetchall()
    if compiled.converters:
        converted = []
        for row in rows:
            values_ = list(row)
            for position, functions, expression in compiled.converters:
                value = values_[position]
                for function in functions:
                    value = function(value, expression, connection)
                values_[position] = value
            converted.append(values_)
        rows = converted
    return rows
