"""Server-rendered pages: what each role sees and may do, forms, query budgets."""

import re
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.accounts.models import ApiToken, User
from portal.audit import AuditEntry
from portal.notifications import deliver_outbox
from portal.tenancy.models import Membership, Organization
from tests.conftest import page_client as signed_in
from tests.factories import MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("organization_list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


def test_navigation_depends_on_role(world):
    admin_page = signed_in(world.admin).get(reverse("dashboard")).content.decode()
    customer_page = signed_in(world.a.poc).get(reverse("dashboard")).content.decode()
    assert reverse("audit_log") in admin_page
    assert reverse("audit_log") not in customer_page
    assert world.a.organization.name in customer_page


def test_admin_creates_and_edits_an_organization(world):
    client = signed_in(world.admin)
    response = client.post(reverse("organization_create"), {"name": "Fresh Customer", "slug": ""})
    organization = Organization.objects.get(name="Fresh Customer")
    assert response["Location"] == reverse("organization_detail", args=[organization.pk])
    assert organization.slug == "fresh-customer"
    client.post(
        reverse("organization_edit", args=[organization.pk]),
        {"name": "Fresh Customer Ltd", "slug": "fresh", "is_active": "on"},
    )
    organization.refresh_from_db()
    assert (organization.name, organization.slug) == ("Fresh Customer Ltd", "fresh")
    assert AuditEntry.objects.filter(object_id=str(organization.pk)).count() == 2


def test_organization_form_shows_errors_and_saves_nothing(world):
    client = signed_in(world.admin)
    response = client.post(
        reverse("organization_create"), {"name": "Dup", "slug": world.a.organization.slug}
    )
    assert response.status_code == 200
    assert "This short name is taken." in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Organization.objects.filter(name="Dup").exists()


def test_admin_adds_a_person_to_an_organization(world, mailoutbox):
    client = signed_in(world.admin)
    response = client.post(
        reverse("organization_person_add", args=[world.a.organization.pk]),
        {
            "email": "third@a.test",
            "name": "Third Person",
            "role": "poc",
            "engagement": world.a.objects["engagement"].pk,
            "language": "ko",
            "time_zone": "Asia/Seoul",
        },
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user__email="third@a.test")
    assert membership.organization == world.a.organization and membership.role == "poc"
    assert membership.user.language == "ko"
    assert mailoutbox == []  # the welcome waits in the outbox for the delivery job
    assert deliver_outbox() == (1, 0)
    assert mailoutbox[0].to == ["third@a.test"]
    assert mailoutbox[0].subject == "서비스 포털 계정 안내"  # in the person's language


def test_customers_cannot_use_admin_pages(world):
    client = signed_in(world.a.poc)
    assert client.get(reverse("organization_create")).status_code == 403
    assert (
        client.get(reverse("organization_edit", args=[world.a.organization.pk])).status_code == 403
    )
    assert (
        client.post(
            reverse("organization_person_add", args=[world.a.organization.pk]),
            {"email": "x@a.test"},
        ).status_code
        == 403
    )
    assert client.get(reverse("audit_log")).status_code == 403
    assert client.get(reverse("staff_create")).status_code == 403
    assert not User.objects.filter(email="x@a.test").exists()


def test_admin_adds_provider_staff(world):
    client = signed_in(world.admin)
    client.post(
        reverse("staff_create"),
        {
            "email": "new.manager@provider.test",
            "name": "New Manager",
            "kind": "manager",
            "language": "en",
            "time_zone": "UTC",
        },
    )
    assert User.objects.get(email="new.manager@provider.test").is_service_manager


def test_tokens_page_creates_shows_once_and_revokes(world):
    client = signed_in(world.a.poc)
    response = client.post(
        reverse("api_tokens"), {"name": "CRM sync", "scopes": ["read"], "expires_in_days": 30}
    )
    page = response.content.decode()
    token = ApiToken.objects.get(user=world.a.poc)
    assert f"smp_{token.key_id}_" in page
    assert f"smp_{token.key_id}_" not in client.get(reverse("api_tokens")).content.decode()
    client.post(reverse("api_token_revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_token_form_refuses_bad_input(world):
    client = signed_in(world.a.poc)
    response = client.post(
        reverse("api_tokens"), {"name": "", "scopes": ["root"], "expires_in_days": -1}
    )
    assert response.status_code == 200
    assert not ApiToken.objects.exists()


def test_preferences_change_language_and_zone(world):
    client = signed_in(world.a.poc)
    client.post(
        reverse("preferences"), {"name": "Poc A", "language": "ko", "time_zone": "Asia/Seoul"}
    )
    world.a.poc.refresh_from_db()
    assert (world.a.poc.language, world.a.poc.time_zone) == ("ko", "Asia/Seoul")
    page = client.get(reverse("dashboard")).content.decode()
    assert '<html lang="ko">' in page
    response = client.post(
        reverse("preferences"), {"name": "Poc A", "language": "ko", "time_zone": "Mars/Base"}
    )
    assert response.status_code == 200
    world.a.poc.refresh_from_db()
    assert world.a.poc.time_zone == "Asia/Seoul"


def test_korean_pages_are_translated(world):
    world.a.poc.language = "ko"
    world.a.poc.save()
    page = signed_in(world.a.poc).get(reverse("organization_list")).content.decode()
    assert "조직" in page  # "Organizations"


def test_healthz_reports_database_and_broker(client):
    body = client.get(reverse("healthz")).json()
    assert body["database"] == "ok" and body["broker"] == "ok" and body["status"] == "ok"


def _count(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    ("role", "url_name"),
    [
        ("admin", "dashboard"),
        ("poc", "dashboard"),
        ("admin", "organization_list"),
        ("admin", "people_list"),
        ("poc", "people_list"),
        ("admin", "audit_log"),
        ("poc", "api_tokens"),
        ("admin", "organization_detail"),
    ],
)
def test_pages_issue_constant_queries(world, role, url_name):
    user = world.user(role)
    kwargs = {"pk": world.a.organization.pk} if url_name == "organization_detail" else {}
    url = reverse(url_name, kwargs=kwargs)
    client = signed_in(user)
    client.get(url)

    def grow(n):
        for _ in range(n):
            org = OrganizationFactory()
            MembershipFactory(organization=org)
            MembershipFactory(organization=world.a.organization)
            AuditEntry.objects.create(actor=world.admin, action="x", object_type="y", object_id="1")
            from portal.accounts.services import api_token_create

            api_token_create(user=user, name="t", scopes=["read"])

    grow(3)
    few = _count(client, url)
    grow(30)
    assert _count(client, url) == few


def test_logo_upload_is_checked_by_content_and_served_only_through_the_scope(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.conftest import PNG_BYTES

    admin = signed_in(world.admin)
    url = reverse("organization_edit", args=[world.a.organization.pk])
    fake = SimpleUploadedFile("logo.png", b"<svg onload=alert(1)>", content_type="image/png")
    response = admin.post(
        url, {"name": "Tenant a Corporation", "slug": "tenant-a", "is_active": "on", "logo": fake}
    )
    assert response.status_code == 200
    assert "Only these file types are accepted: PNG, JPG." in response.content.decode()
    old_name = world.a.organization.logo.name
    world.a.organization.refresh_from_db()
    assert world.a.organization.logo.name == old_name
    big = SimpleUploadedFile("big.png", PNG_BYTES + b"\0" * 600_000, content_type="image/png")
    response = admin.post(url, {"name": "Tenant a Corporation", "slug": "tenant-a", "logo": big})
    assert "larger than 512 KB" in response.content.decode()
    good = SimpleUploadedFile("new.png", PNG_BYTES, content_type="image/png")
    admin.post(
        url, {"name": "Tenant a Corporation", "slug": "tenant-a", "is_active": "on", "logo": good}
    )
    world.a.organization.refresh_from_db()
    assert world.a.organization.logo.name != old_name
    assert "new" not in world.a.organization.logo.name  # stored under a random name
    logo = signed_in(world.a.member).get(
        reverse("organization_logo", args=[world.a.organization.pk])
    )
    assert logo.status_code == 200 and logo["Content-Type"] == "image/png"
    assert b"".join(logo.streaming_content) == PNG_BYTES
    assert "sandbox" in logo["Content-Security-Policy"]
    assert (
        signed_in(world.a.member)
        .get(reverse("organization_logo", args=[world.b.organization.pk]))
        .status_code
        == 404
    )
    admin.post(
        url,
        {"name": "Tenant a Corporation", "slug": "tenant-a", "is_active": "on", "logo-clear": "on"},
    )
    world.a.organization.refresh_from_db()
    assert not world.a.organization.logo


def test_media_files_have_no_public_url(world, client):
    name = world.a.organization.logo.name
    assert client.get(f"/media/{name}").status_code == 404
    assert client.get(f"/static/../media/{name}").status_code == 404


class _HeaderCells(HTMLParser):
    """The text of every <th>, hidden text included (a screen reader reads it)."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self._open = False

    def handle_starttag(self, tag, attrs):
        if tag == "th":
            self._open = True
            self.cells.append("")

    def handle_endtag(self, tag):
        if tag == "th":
            self._open = False

    def handle_data(self, data):
        if self._open:
            self.cells[-1] += data.strip()


def test_tokens_table_has_no_empty_header(world):
    """The revoke column's header was empty: a screen reader announced a blank column name."""
    client = signed_in(world.a.poc)
    parser = _HeaderCells()
    parser.feed(client.get(reverse("api_tokens")).content.decode())
    assert len(parser.cells) == 8
    assert all(parser.cells), parser.cells


def test_the_people_list_comes_a_page_at_a_time(world):
    """An admin sees every person of the provider: fifty a page, the rest on the next."""
    from portal.accounts.views import PEOPLE_PAGE_SIZE
    from tests.factories import MembershipFactory

    for _ in range(PEOPLE_PAGE_SIZE + 1):
        MembershipFactory(organization=world.a.organization)
    client = signed_in(world.admin)
    first = client.get(reverse("people_list")).content.decode()
    second = client.get(reverse("people_list"), {"page": 2}).content.decode()
    rows = lambda html: re.findall(r"<tr><td>[^<]*</td><td>([^<]+)</td>", html)  # noqa: E731
    assert len(rows(first)) == PEOPLE_PAGE_SIZE
    assert rows(second) and not set(rows(first)) & set(rows(second))
    assert "?page=2" in first and "?page=1" in second
