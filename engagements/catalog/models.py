"""The service catalog (plans, service functions, the entitlement matrix, cadences): models."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
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


class ServiceFunction(models.Model):
    """A service function of SPEC §2. The code is a fixed identifier; name and text are editable."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["updated_at", "id"], name="service_function_updated")]
        ordering = ["position", "id"]
        verbose_name = _("service function")
        verbose_name_plural = _("service functions")

    def __str__(self) -> str:
        return self.name


class Plan(models.Model):
    """A tier: TSAM, SaaS Standard, SaaS Premium, or one an admin adds."""

    class Deployment(models.TextChoices):
        ON_PREM = "on_prem", _("On-premises licence")
        SAAS = "saas", _("SaaS")

    class Pricing(models.TextChoices):
        INCLUDED = "included", _("Included")
        ADD_ON = "add_on", _("Add-on purchase")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
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

    def __str__(self) -> str:
        return self.name


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
