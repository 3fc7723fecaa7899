"""Global search: the query's rules, shared by the page's form and the API's serializer."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from portal.forms import PortalForm
from reviews.search.selectors import MAX_LENGTH, MAX_WORDS, MIN_LENGTH, Kind, query_words


def clean_query(value: str) -> str:
    """The query, stripped: at least MIN_LENGTH characters, at most MAX_WORDS words (the
    length limit and control characters are the fields' own checks)."""
    query = " ".join(value.split())
    if len(query) < MIN_LENGTH:
        raise ValidationError(
            ngettext_lazy(
                "Type at least %(count)d character.",
                "Type at least %(count)d characters.",
                "count",
            ),
            code="too_short",
            params={"count": MIN_LENGTH},
        )
    if len(query_words(query)) > MAX_WORDS:
        raise ValidationError(
            _("Use at most %(count)d words."), code="too_many_words", params={"count": MAX_WORDS}
        )
    return query


class SearchForm(PortalForm):
    """The page's query: `q` (empty shows the prompt) and optionally one `type` to page
    through."""

    q = forms.CharField(label=_("Search"), max_length=MAX_LENGTH, required=False)
    type = forms.ChoiceField(
        label=_("Show"), choices=[("", _("Everything")), *Kind.choices], required=False
    )

    def clean_q(self) -> str:
        value = self.cleaned_data["q"]
        return clean_query(value) if value else ""
