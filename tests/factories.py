"""factory_boy factories of the portal's core models."""

import factory
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from portal.accounts.models import User
from portal.tenancy.models import Membership, Organization

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    name = factory.Faker("name")
    kind = User.Kind.CUSTOMER
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class AdminFactory(UserFactory):
    kind = User.Kind.ADMIN

    @factory.post_generation
    def totp(obj, create, extracted, **kwargs):
        """Admins must have TOTP; the secret is kept on the object for tests that sign in."""
        if create and extracted is not False:
            obj.totp_secret = generate_totp_secret()
            TOTP.activate(obj, obj.totp_secret)


class ManagerFactory(UserFactory):
    kind = User.Kind.MANAGER


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Customer {n} Ltd")
    slug = factory.Sequence(lambda n: f"customer-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.POC


def has_totp(user: User) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def plan(code: str):
    from engagements.catalog.models import Plan

    return Plan.objects.get(code=code)


class EngagementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "engagements.Engagement"
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    plan = factory.LazyFunction(lambda: plan("premium"))
    name = factory.LazyAttribute(lambda o: f"{o.organization.name} {o.plan.code}")
    start_date = factory.LazyFunction(lambda: __import__("datetime").date(2026, 1, 1))
    end_date = factory.LazyFunction(lambda: __import__("datetime").date(2027, 12, 31))
    manager = factory.SubFactory(ManagerFactory)
    deputy = factory.SubFactory(ManagerFactory)
    timezone = "Europe/Berlin"
    holiday_country = "DE"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "engagements.Contact"

    engagement = factory.SubFactory(EngagementFactory)
    user = factory.LazyAttribute(
        lambda o: MembershipFactory(organization=o.engagement.organization).user
    )


class MaintenanceWindowFactory(factory.django.DjangoModelFactory):
    """A planned window two weeks ahead, three hours long, on a fresh Premium engagement."""

    class Meta:
        model = "reviews.MaintenanceWindow"

    engagement = factory.SubFactory(EngagementFactory)
    title = factory.Sequence(lambda n: f"Patch night {n}")
    starts_at = factory.LazyFunction(
        lambda: (
            __import__("django.utils.timezone").utils.timezone.now()
            + __import__("datetime").timedelta(days=14)
        )
    )
    ends_at = factory.LazyAttribute(
        lambda o: o.starts_at + __import__("datetime").timedelta(hours=3)
    )
    systems_affected = "Database cluster"
    expected_impact = "Read-only for an hour"


class ChangeItemFactory(factory.django.DjangoModelFactory):
    """A planned software change two weeks ahead, on a fresh Premium engagement."""

    class Meta:
        model = "reviews.ChangeItem"

    engagement = factory.SubFactory(EngagementFactory)
    title = factory.Sequence(lambda n: f"Upgrade {n}")
    kind = "software"
    scheduled_at = factory.LazyFunction(
        lambda: (
            __import__("django.utils.timezone").utils.timezone.now()
            + __import__("datetime").timedelta(days=14)
        )
    )
    impact = "Short restart"
    rollback_plan = "Restore the snapshot"
