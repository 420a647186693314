"""The activity filters, shared by the API list, the timeline and the UI.

Activities may live in MongoDB, so the filterset validates the query string
(django-filter forms, per-field errors) and its cleaned data is translated to
store conditions by `activities.selectors.filter_cond`, not applied to a
queryset.
"""

import django_filters
from django import forms
from django.core.exceptions import ValidationError

from activities.models import Activity, ActivityType
from activities.selectors import STATUS_DONE, STATUS_OPEN
from salesapp.filters import DateTimeFilter, IdFilter


class CommaMultipleChoiceField(forms.MultipleChoiceField):
    """Accepts ?type=call&type=email and ?type=call,email alike."""

    def to_python(self, value):
        values = super().to_python(value)
        return [part.strip() for v in values for part in str(v).split(",") if part.strip()]


class CommaMultipleChoiceFilter(django_filters.MultipleChoiceFilter):
    field_class = CommaMultipleChoiceField


class ActivityFilter(django_filters.FilterSet):
    type = CommaMultipleChoiceFilter(choices=ActivityType.choices, help_text="email, call, meeting, demo, task (comma-separated or repeated)")
    lead = IdFilter(help_text="Activities linked to this lead")
    opportunity = IdFilter(help_text="Activities linked to this opportunity")
    account = IdFilter(help_text="Activities of this account, its contacts and its opportunities")
    contact = IdFilter(help_text="Activities linked to this contact")
    user = IdFilter(help_text="Activities owned (or assigned to) this user")
    status = django_filters.ChoiceFilter(choices=[(STATUS_OPEN, "Open"), (STATUS_DONE, "Done")])
    since = DateTimeFilter(help_text="Happened at or after")
    until = DateTimeFilter(help_text="Happened before")
    due_before = DateTimeFilter(help_text="Due before")

    class Meta:
        model = Activity
        fields: list[str] = []


TIMELINE_TYPES = [*ActivityType.choices, ("history", "History")]


class TimelineFilter(django_filters.FilterSet):
    """?lead=|opportunity=|account=|user= (exactly one) and optional ?type=."""

    lead = IdFilter()
    opportunity = IdFilter()
    account = IdFilter()
    user = IdFilter()
    type = CommaMultipleChoiceFilter(choices=TIMELINE_TYPES)

    class Meta:
        model = Activity
        fields: list[str] = []

    def subject(self) -> tuple[str, int] | None:
        data = self.form.cleaned_data
        given = [(k, data[k]) for k in ("lead", "opportunity", "account", "user") if data.get(k) is not None]
        return given[0] if len(given) == 1 else None


def parse(filterset_class, data) -> dict:
    """Cleaned filter values, or a ValidationError naming the bad parameter."""
    fs = filterset_class(data=data, queryset=Activity.objects.none())
    if not fs.is_valid():
        raise ValidationError({k: list(v) for k, v in fs.form.errors.items()})
    return fs
