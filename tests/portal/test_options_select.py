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
