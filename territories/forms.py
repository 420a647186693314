"""Territory forms: thin, the services validate the business rules."""

from django import forms
from django.contrib.auth.models import Group

from salesapp.models import User
from territories.models import Territory


def _csv(value) -> str:
    return ", ".join(value or [])


class TerritoryForm(forms.Form):
    """Name, place in the hierarchy, owner, rules and priority of a territory."""

    name = forms.CharField(max_length=120)
    type = forms.ChoiceField(choices=Territory.Type.choices)
    parent = forms.ModelChoiceField(queryset=Territory.objects.none(), required=False,
                                    help_text="A child only takes records its parent takes too.")
    owner = forms.ModelChoiceField(queryset=User.objects.filter(is_active=True), required=False)
    countries = forms.CharField(required=False, help_text="Two-letter codes, comma separated, e.g. US, CA")
    states = forms.CharField(required=False, help_text="e.g. CA, WA")
    zip_codes = forms.CharField(required=False, help_text="Exact 94107, prefix 941*, range 94100-94199")
    industry = forms.CharField(required=False, max_length=100)
    min_employee_count = forms.IntegerField(required=False, min_value=0)
    max_employee_count = forms.IntegerField(required=False, min_value=0)
    min_annual_revenue = forms.DecimalField(required=False, min_value=0, max_digits=16, decimal_places=2)
    max_annual_revenue = forms.DecimalField(required=False, min_value=0, max_digits=16, decimal_places=2)
    priority = forms.IntegerField(initial=0, help_text="Breaks ties between equally deep, equally specific territories")
    is_active = forms.BooleanField(required=False, initial=True)
    routing_policy = forms.ChoiceField(choices=Territory.RoutingPolicy.choices)

    def __init__(self, *args, model=None, instance: Territory | None = None, **kwargs):
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": instance.name, "type": instance.type, "parent": instance.parent_id,
                "owner": instance.owner_id, "countries": _csv(instance.countries), "states": _csv(instance.states),
                "zip_codes": _csv(instance.zip_codes), "industry": instance.industry,
                "min_employee_count": instance.min_employee_count, "max_employee_count": instance.max_employee_count,
                "min_annual_revenue": instance.min_annual_revenue, "max_annual_revenue": instance.max_annual_revenue,
                "priority": instance.priority, "is_active": instance.is_active,
                "routing_policy": instance.routing_policy,
            }
        super().__init__(*args, **kwargs)
        model = model or (instance.model if instance else None)
        parents = Territory.objects.filter(model=model) if model else Territory.objects.none()
        if instance is not None:
            parents = parents.exclude(pk=instance.pk)
        self.fields["parent"].queryset = parents

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        for f in ("countries", "states", "zip_codes"):
            data[f] = [v.strip() for v in (data[f] or "").split(",") if v.strip()]
        return data

    def add_service_errors(self, error) -> None:
        for field, messages in error.message_dict.items():
            self.add_error(field if field in self.fields else None, messages)


class MemberForm(forms.Form):
    user = forms.ModelChoiceField(queryset=User.objects.filter(is_active=True).order_by("email"))
    daily_capacity = forms.IntegerField(required=False, min_value=0, help_text="Leads per day; empty is unlimited")


class GrantForm(forms.Form):
    user = forms.ModelChoiceField(queryset=User.objects.filter(is_active=True).order_by("email"), required=False)
    group = forms.ModelChoiceField(queryset=Group.objects.order_by("name"), required=False)

    def clean(self):
        data = super().clean()
        if bool(data.get("user")) == bool(data.get("group")):
            raise forms.ValidationError("Choose either a user or a group.")
        return data


class CloneForm(forms.Form):
    name = forms.CharField(max_length=120, label="Name of the new plan")


class MatchForm(forms.Form):
    country = forms.CharField(required=False, max_length=2)
    state = forms.CharField(required=False, max_length=50)
    postal_code = forms.CharField(required=False, max_length=20)
    industry = forms.CharField(required=False, max_length=100)
    employee_count = forms.IntegerField(required=False, min_value=0)
    annual_revenue = forms.DecimalField(required=False, min_value=0)
