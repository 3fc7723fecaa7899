"""People who sign in, and the API tokens they own."""

from __future__ import annotations

import hashlib
import secrets
import zoneinfo
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.tenancy.scoping import ScopedUserManager

# The areas of the IANA region/city names. tzdata also ships legacy aliases (CST6CDT, GMT0,
# Factory, US/Eastern, Etc/GMT+5 whose sign is inverted): nobody should pick those.
TIME_ZONE_AREAS = (
    "Africa/",
    "America/",
    "Antarctica/",
    "Arctic/",
    "Asia/",
    "Atlantic/",
    "Australia/",
    "Europe/",
    "Indian/",
    "Pacific/",
)
# What validation accepts: every region/city name, backward aliases included (Asia/Calcutta,
# Europe/Kiev), so a value stored before the choices were narrowed stays valid.
TIME_ZONES = frozenset(
    name
    for name in zoneinfo.available_timezones()
    if name == "UTC" or name.startswith(TIME_ZONE_AREAS)
)
AREA_LABELS = {
    "Africa": _("Africa"),
    "America": _("America"),
    "Antarctica": _("Antarctica"),
    "Arctic": _("Arctic"),
    "Asia": _("Asia"),
    "Atlantic": _("Atlantic"),
    "Australia": _("Australia"),
    "Europe": _("Europe"),
    "Indian": _("Indian Ocean"),
    "Pacific": _("Pacific"),
}


def _zone_tab() -> str:
    """tzdata's zone.tab: one canonical zone per country region, no backward aliases. From the
    tzdata package (a requirement), else from the system's zoneinfo."""
    try:
        return (resources.files("tzdata.zoneinfo") / "zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):  # pragma: no cover - no tzdata package
        for root in zoneinfo.TZPATH:
            path = Path(root) / "zone.tab"
            if path.exists():
                return path.read_text(encoding="utf-8")
    return ""  # pragma: no cover


# What the dropdowns offer: the canonical names of zone.tab that this machine can load.
CANONICAL_TIME_ZONES = (
    frozenset(
        line.split("\t")[2]
        for line in _zone_tab().splitlines()
        if line and not line.startswith("#") and len(line.split("\t")) >= 3
    )
    & TIME_ZONES
)


def time_zone_choices(current: str | None = None) -> list[tuple[Any, Any]]:
    """UTC first, then one group per area, cities sorted ("America/Argentina/Buenos_Aires" is
    shown as "Argentina / Buenos Aires" under America). A stored non-canonical value is kept as an
    option, so an unchanged form still validates."""
    names = set(CANONICAL_TIME_ZONES)
    if current and current in TIME_ZONES:
        names.add(current)
    names.discard("UTC")
    groups: dict[str, list[tuple[str, str]]] = {}
    for name in sorted(names):
        area, _slash, city = name.partition("/")
        groups.setdefault(area, []).append((name, city.replace("_", " ").replace("/", " / ")))
    choices: list[tuple[Any, Any]] = [("UTC", "UTC")]
    choices += [(AREA_LABELS.get(area, area), cities) for area, cities in groups.items()]
    return choices


TIME_ZONE_CHOICES = time_zone_choices()


def validate_time_zone(value: str) -> None:
    """An IANA zone name (region/city, or UTC). Not model choices: the list depends on the
    machine's tzdata, and the API takes it as a plain string (a 400 for an unknown zone)."""
    if value not in TIME_ZONES:
        raise ValidationError(
            _("%(value)s is not a known IANA time zone."), params={"value": value}
        )


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: object) -> User:
        if not email:
            raise ValueError("Users need an e-mail address.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: object) -> User:
        fields.update(kind=User.Kind.ADMIN, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """Provider staff (admin, service manager) are flagged by `kind`; customers have memberships."""

    class Kind(models.TextChoices):
        ADMIN = "admin", _("Provider admin")
        MANAGER = "manager", _("Service manager")
        CUSTOMER = "customer", _("Customer")

    email = models.EmailField(_("e-mail address"), unique=True)
    name = models.CharField(_("name"), max_length=150, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.CUSTOMER)
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text=_("Times are shown to you in this zone."),
    )
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="en"
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)

    objects = UserManager()
    # The people the open scope may see; refuses to run with none open.
    visible = ScopedUserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["updated_at", "id"], name="user_updated")]
        ordering = ["email"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.name or self.email

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return (self.name or self.email).split(" ")[0]

    @property
    def is_provider_admin(self) -> bool:
        return self.kind == self.Kind.ADMIN or self.is_superuser

    @property
    def is_service_manager(self) -> bool:
        return self.kind == self.Kind.MANAGER and not self.is_superuser

    @property
    def is_provider_staff(self) -> bool:
        return self.is_provider_admin or self.is_service_manager

    @property
    def is_customer(self) -> bool:
        return not self.is_provider_staff

    @property
    def is_staff(self) -> bool:
        """Django's admin site is for provider admins only."""
        return self.is_provider_admin


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def usable(self, at: datetime | None = None) -> ApiTokenQuerySet:
        at = at or timezone.now()
        return self.filter(revoked_at__isnull=True, user__is_active=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=at)
        )


class ApiToken(models.Model):
    """A Bearer token: shown once, stored as a SHA-256 hash of a 256-bit secret."""

    class Scope(models.TextChoices):
        READ = "read", _("Read")
        WRITE = "write", _("Write")

    PREFIX = "smp"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=100)
    key_id = models.CharField(_("key id"), max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.key_id})"

    @classmethod
    def new_secret(cls) -> tuple[str, str, str]:
        """A fresh (key_id, secret, full token string)."""
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        return key_id, secret, f"{cls.PREFIX}_{key_id}_{secret}"

    @staticmethod
    def parse(token: str) -> tuple[str, str] | None:
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != ApiToken.PREFIX or not parts[1] or not parts[2]:
            return None
        return parts[1], parts[2]

    def set_secret(self, secret: str) -> None:
        self.key_hash = _hash_secret(secret)

    def matches(self, secret: str) -> bool:
        return secrets.compare_digest(self.key_hash, _hash_secret(secret))

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    def allows(self, scope: str) -> bool:
        return scope in self.scopes


class IdempotencyKey(models.Model):
    """A client's `Idempotency-Key` of a POST (the API's header, or the one-time token of a
    page form) and the answer its first request got, replayed for a retry within
    `IDEMPOTENCY_KEY_HOURS`. Scoped by user; see portal/api/idempotency.py."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("user"),
    )
    key = models.CharField(_("key"), max_length=255)
    # SHA-256 of the method, the path and the body: the same key with another request is a 409.
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    content_type = models.CharField(max_length=200, blank=True)
    location = models.CharField(max_length=500, blank=True)
    body = models.BinaryField(default=bytes)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_per_user"),
        ]

    def __str__(self) -> str:
        return self.key
