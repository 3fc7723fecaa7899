"""`portal.forms.OptionsSelect` writes the same markup as Django's select template (issue 17):
compared byte for byte with `forms.Select` over plain and grouped choices, a selected value,
required and disabled attributes, escaping and safe labels; and every plain select of a portal
form uses it."""

from __future__ import annotations

import pytest
from django import forms
from django.utils.safestring import mark_safe

from portal.forms import OptionsSelect, PortalForm

CHOICES = [
    ("", "---------"),
    ("a", "Alpha & <Omega>"),
    ("b", mark_safe("<b>Bold</b>")),
    (
        'Group "one"',
        [("c", "Gamma"), (4, "Four"), ("d'q", "Quote's")],
    ),
    (None, "None as a value"),
]


@pytest.mark.parametrize("value", [None, "", "a", "c", 4, "4", "d'q", "missing"])
@pytest.mark.parametrize(
    "attrs",
    [None, {"required": True, "id": "id_x"}, {"disabled": True, "data-x": 'a"b', "hidden": False}],
)
def test_the_markup_is_djangos(value, attrs):
    django_select = forms.Select(choices=CHOICES)
    ours = OptionsSelect.of(forms.Select(choices=CHOICES))
    assert ours.render("field", value, attrs) == django_select.render("field", value, attrs)


def test_a_multiple_select_is_left_to_django():
    class Form(PortalForm):
        one = forms.ChoiceField(choices=[("a", "A")])
        many = forms.MultipleChoiceField(choices=[("a", "A")])
        radio = forms.ChoiceField(choices=[("a", "A")], widget=forms.RadioSelect)

    form = Form()
    assert type(form.fields["one"].widget) is OptionsSelect
    assert type(form.fields["many"].widget) is forms.SelectMultiple
    assert type(form.fields["radio"].widget) is forms.RadioSelect
    # The class-level field keeps Django's widget: each form gets its own copy.
    assert type(Form.base_fields["one"].widget) is forms.Select
    html = str(form["one"])
    assert (
        html.startswith('<select name="one" id="id_one">')
        and '<option value="a">A</option>' in html
    )


@pytest.mark.django_db
@pytest.mark.parametrize("empty_label", ["---------", None])
def test_offered_objects_render_as_the_queryset_would_and_posts_are_still_checked(
    world, empty_label
):
    """`offer(field, objects)`: the options come from the objects the view read, with no query
    to render them; the markup is the queryset's own; a posted id is looked up in the
    queryset, so another tenant's engagement stays "not a valid choice"."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from engagements.contracts.models import Engagement
    from portal.forms import ScopedForm, offer
    from portal.tenancy.scoping import tenant_scope

    class Form(ScopedForm):
        engagement = forms.ModelChoiceField(queryset=Engagement.objects.all())

    with tenant_scope(world.a.poc):
        plain = Form()
        plain.fields["engagement"].empty_label = empty_label
        expected = str(plain["engagement"])
        widget = plain.fields["engagement"].widget
        # The shortcut answers as Django's own check, which reads the first choice.
        assert widget.use_required_attribute(None) == forms.Select.use_required_attribute(
            widget, None
        )

        form = Form()
        form.fields["engagement"].empty_label = empty_label
        objects = list(form.fields["engagement"].queryset)
        assert objects and all(o.organization_id == world.a.organization.pk for o in objects)
        offer(form.fields["engagement"], objects)
        with CaptureQueriesContext(connection) as queries:
            html = str(form["engagement"])
        assert html == expected
        assert len(queries) == 0
        assert ("required" in html) is (empty_label is not None)

        theirs = world.b.objects["engagement"]
        posted = Form({"engagement": theirs.pk})
        offer(posted.fields["engagement"], objects)
        assert not posted.is_valid() and "engagement" in posted.errors
        ours = Form({"engagement": objects[0].pk})
        offer(ours.fields["engagement"], objects)
        assert ours.is_valid() and ours.cleaned_data["engagement"] == objects[0]
