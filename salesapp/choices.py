"""The choices forms offer for shared reference data: ISO countries and their subdivisions, and the
admin-managed picklists (industries, lead sources). Every form that asks for one of these takes its
choices from here, so a list is kept in one place.
"""

from functools import cache

import pycountry
from django import forms
from django.urls import reverse

from salesapp.models import PicklistValue

EMPTY = ("", "—")


@cache
def _countries() -> tuple[tuple[str, str], ...]:
    return tuple(sorted(((c.alpha_2, getattr(c, "common_name", c.name)) for c in pycountry.countries),
                        key=lambda pair: pair[1]))


def country_choices() -> list[tuple[str, str]]:
    """Every ISO 3166-1 country by its alpha-2 code, named in English and sorted by name."""
    return [EMPTY, *_countries()]


@cache
def _subdivisions(country: str) -> tuple[tuple[str, str], ...]:
    found = pycountry.subdivisions.get(country_code=country) or []
    # Records store the part of the ISO 3166-2 code after the country ("CA" of "US-CA").
    top = [s for s in found if s.parent_code is None]
    return tuple(sorted(((s.code.split("-", 1)[1], s.name) for s in top), key=lambda pair: pair[1]))


def state_choices(country: str, current: str = "") -> list[tuple[str, str]]:
    """The first-level ISO 3166-2 subdivisions (states, provinces, regions) of `country`, plus a record's
    current value when it is not one of them, so editing never drops it."""
    choices = [EMPTY, *_subdivisions((country or "").upper())]
    if current and all(code != current for code, _ in choices):
        choices.append((current, current))
    return choices


def picklist_choices(kind: str, current: str = "") -> list[tuple[str, str]]:
    """The active entries of one admin-managed list, plus a record's current value when the list no
    longer offers it (a retired entry, or a value from an import), so editing never drops it."""
    choices = [EMPTY, *PicklistValue.objects.filter(kind=kind, is_active=True).values_list("value", "label")]
    if current and all(value != current for value, _ in choices):
        choices.append((current, current))
    return choices


def use_pickers(form, *, country: str = "", state: str = "", industry: str = "", source: str = "") -> None:
    """Make a form's reference-data fields pickers: each name given (the form's field for a country, a
    state, an industry, a lead source) becomes a select of the lists above, keeping its label and
    whether it is required. The state list follows the country picked (htmx asks `choice-states`).
    """
    def picker(name: str, choices: list, **attrs) -> None:
        old = form.fields[name]
        form.fields[name] = forms.ChoiceField(choices=choices, required=old.required, label=old.label,
                                              help_text="", widget=forms.Select(attrs={"class": "form-select", **attrs}))

    current = form.initial
    if industry:
        picker(industry, picklist_choices(PicklistValue.Kind.INDUSTRY, current.get(industry) or ""))
    if source:
        picker(source, picklist_choices(PicklistValue.Kind.SOURCE, current.get(source) or ""))
    if country:
        attrs = {"hx-get": reverse("choice-states"), "hx-trigger": "change", "hx-target": f"#id_{state}"} if state else {}
        picker(country, country_choices(), **attrs)
    if state:
        chosen = form.data.get(form.add_prefix(country), "") if form.is_bound else current.get(country) or ""
        picker(state, state_choices(chosen, current.get(state) or ""))
