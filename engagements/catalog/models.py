"""The service catalog (plans, service functions, the entitlement matrix, cadences): models."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _


class Method(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    VIDEO = "video", _("Video conference")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    SELF_PACED = "self_paced", _("Online self-paced training")


class Frequency(models.TextChoices):
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    AS_NEEDED = "as_needed", _("As needed")


def validate_methods(value: object) -> None:
    if (
        not isinstance(value, list)
        or not value
        or any(method not in Method.values for method in value)
        or len(set(value)) != len(value)
    ):
        raise ValidationError(_("Choose one or more delivery methods."))


def in_language(english: str, korean: str, language: str | None = None) -> str:
    """The Korean wording when the language (by default the active one) is Korean and there is
    one; the English otherwise. Catalog data keeps one column per language (`name`, `name_ko`)."""
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    if language.split("-")[0] == "ko" and korean:
        return korean
    return english


class LocalizedName(models.Model):
    """A catalog row named in English (`name`) and Korean (`name_ko`, optional: falls back)."""

    name = models.CharField(_("name"), max_length=200)
    name_ko = models.CharField(_("name in Korean"), max_length=200, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The name in the active language (English when no Korean name is given)."""
        return in_language(self.name, self.name_ko)

    def name_in(self, language: str) -> str:
        return in_language(self.name, self.name_ko, language)

    @property
    def names(self) -> dict[str, str]:
        """{language: name} for every language of the portal (for texts kept past this request,
        such as a frozen report)."""
        return {code: self.name_in(code) for code, _label in settings.LANGUAGES}


class ServiceFunction(LocalizedName):
    """A service function of SPEC §2. The code is a fixed identifier; name and text are editable,
    in English and Korean."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    description = models.TextField(_("description"), blank=True)
    description_ko = models.TextField(_("description in Korean"), blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["updated_at", "id"], name="service_function_updated")]
        ordering = ["position", "id"]
        verbose_name = _("service function")
        verbose_name_plural = _("service functions")

    @property
    def display_description(self) -> str:
        return in_language(self.description, self.description_ko)


def function_names_by_language(codes: list[str]) -> dict[str, dict[str, str]]:
    """Function code → {language: name} for every language of the portal, in one query."""
    return {
        function.code: function.names
        for function in ServiceFunction.objects.filter(code__in=codes).only(
            "code", "name", "name_ko"
        )
    }


def function_names(codes: list[str] | None = None) -> dict[str, str]:
    """Function code → its name in the active language, in one query (all, or `codes`)."""
    functions = ServiceFunction.objects.all()
    if codes is not None:
        functions = functions.filter(code__in=codes)
    return {
        code: in_language(name, name_ko)
        for code, name, name_ko in functions.values_list("code", "name", "name_ko")
    }


class Plan(LocalizedName):
    """A tier: TSAM, SaaS Standard, SaaS Premium, or one an admin adds (named in both languages)."""

    class Deployment(models.TextChoices):
        ON_PREM = "on_prem", _("On-premises licence")
        SAAS = "saas", _("SaaS")

    class Pricing(models.TextChoices):
        INCLUDED = "included", _("Included")
        ADD_ON = "add_on", _("Add-on purchase")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    deployment = models.CharField(_("deployment"), max_length=10, choices=Deployment.choices)
    pricing = models.CharField(_("pricing"), max_length=10, choices=Pricing.choices)
    response_target_business_days = models.DecimalField(
        _("response target (business days)"),
        max_digits=4,
        decimal_places=2,
        default=1,
        validators=[MinValueValidator(0.25), MaxValueValidator(30)],
    )
    max_contacts = models.PositiveSmallIntegerField(
        _("maximum named contacts"), default=3, validators=[MinValueValidator(1)]
    )
    weekly_hours_cap = models.DecimalField(
        _("weekly hours cap"),
        max_digits=5,
        decimal_places=2,
        default=10,
        validators=[MinValueValidator(0)],
    )
    max_open_cases_per_manager = models.PositiveSmallIntegerField(
        _("maximum open cases per manager"), default=30, validators=[MinValueValidator(1)]
    )
    weekly_call = models.BooleanField(_("weekly call"), default=False)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    functions: models.ManyToManyField[ServiceFunction, Entitlement] = models.ManyToManyField(
        ServiceFunction, through="Entitlement", related_name="plans", verbose_name=_("functions")
    )
    _function_codes: frozenset[str]  # cached by engagements.entitlements.plan_function_codes
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["updated_at", "id"], name="plan_updated")]
        ordering = ["position", "id"]
        verbose_name = _("plan")
        verbose_name_plural = _("plans")


class Entitlement(models.Model):
    """One ✓ of the matrix: the plan includes the function."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="entitlements")
    function = models.ForeignKey(ServiceFunction, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "function"], name="entitlement_unique")
        ]
        verbose_name = _("entitlement")
        verbose_name_plural = _("entitlements")

    def __str__(self) -> str:
        return f"{self.plan.code}: {self.function.code}"


class Cadence(models.Model):
    """How and how often a plan delivers a deliverable (SPEC §3, Table 2)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="cadences")
    deliverable = models.ForeignKey(
        ServiceFunction, on_delete=models.CASCADE, related_name="+", verbose_name=_("deliverable")
    )
    methods = models.JSONField(_("methods"), default=list, validators=[validate_methods])
    frequency = models.CharField(_("frequency"), max_length=12, choices=Frequency.choices)

    class Meta:
        ordering = ["plan_id", "deliverable__position"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "deliverable"], name="cadence_unique")
        ]
        verbose_name = _("cadence")
        verbose_name_plural = _("cadences")

    def __str__(self) -> str:
        return f"{self.plan.code}: {self.deliverable.code} {self.frequency}"
