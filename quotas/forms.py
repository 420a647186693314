"""Quota forms: the inline amount cell, the allocation dialog, admin bulk setup and CSV import."""

from django import forms
from django.core.exceptions import ValidationError

from quotas.models import Quota
from quotas.services import METHODS
from salesapp.assignment import assignable_users
from salesapp.periods import parse_period
from territories.selectors import territory_list


def _period(value: str) -> str:
    try:
        return parse_period(value).key
    except ValidationError as exc:
        raise forms.ValidationError(exc.message_dict["period"][0])


class QuotaCellForm(forms.Form):
    """One holder's quota amount, edited in place on the planning page."""

    quota_amount = forms.DecimalField(max_digits=16, decimal_places=2, min_value=0)


class AllocationForm(forms.Form):
    """How to split a quota: evenly, by last period's attainment, or by hand (one amount per child)."""

    method = forms.ChoiceField(
        choices=[(m, {"even": "Evenly", "history": "By last period's attainment", "manual": "By hand"}[m])
                 for m in METHODS],
        widget=forms.RadioSelect, initial="even",
    )

    def __init__(self, *args, children=(), current=None, **kwargs):
        super().__init__(*args, **kwargs)
        current = current or {}
        self.child_fields = []
        for kind, holder in children:
            name = f"amount_{holder.pk}"
            self.fields[name] = forms.DecimalField(
                max_digits=16, decimal_places=2, min_value=0, required=False, label=str(holder),
                initial=current.get((kind, holder.pk)),
            )
            self.child_fields.append((name, holder))

    def amounts(self) -> dict:
        return {str(holder.pk): self.cleaned_data[name] for name, holder in self.child_fields
                if self.cleaned_data.get(name) is not None}


class BulkQuotaForm(forms.Form):
    """The same quota for many people or territories at once."""

    period = forms.CharField(help_text="Q1_2026, 2026-03 or FY2026")
    quota_type = forms.ChoiceField(choices=Quota.Type.choices)
    quota_amount = forms.DecimalField(max_digits=16, decimal_places=2, min_value=0)
    status = forms.ChoiceField(choices=Quota.Status.choices, initial=Quota.Status.DRAFT)
    users = forms.ModelMultipleChoiceField(queryset=None, required=False,
                                           widget=forms.SelectMultiple(attrs={"size": 12}))
    territories = forms.ModelMultipleChoiceField(queryset=None, required=False,
                                                 widget=forms.SelectMultiple(attrs={"size": 12}))

    def __init__(self, *args, user, **kwargs):
        """The people `user` may set quotas for, and the active territories they can see."""
        super().__init__(*args, **kwargs)
        self.fields["users"].queryset = assignable_users(user)
        self.fields["territories"].queryset = territory_list(user=user).filter(is_active=True).order_by("name")

    def clean_period(self):
        return _period(self.cleaned_data["period"])

    def clean(self):
        data = super().clean()
        if not data.get("users") and not data.get("territories"):
            self.add_error("users", "Choose at least one user or territory.")
        return data


class QuotaImportForm(forms.Form):
    """A CSV of quotas: user_email or territory, period, quota_type, quota_amount, status."""

    file = forms.FileField()
    dry_run = forms.BooleanField(required=False, help_text="Check every row and report; write nothing")
    skip_bad_rows = forms.BooleanField(required=False, help_text="Write the good rows even if some are bad")
