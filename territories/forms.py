"""Territory forms: thin, the services validate the business rules."""

from django import forms
from django.contrib.auth.models import Group
from django.db.models import Q

from salesapp.assignment import assignable_users
from salesapp.choices import country_choices, use_pickers
from salesapp.models import User
from territories.engine import RULE_FIELDS
from territories.models import Territory
from territories.selectors import territory_list


def _csv(value) -> str:
    return ", ".join(value or [])


class TerritoryForm(forms.Form):
    """Name, place in the hierarchy, owner, rules and priority of a territory."""

    name = forms.CharField(max_length=120)
    type = forms.ChoiceField(choices=Territory.Type.choices)
    parent = forms.ModelChoiceField(queryset=Territory.objects.none(), required=False,
                                    help_text="A child only takes records its parent takes too.")
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
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

    def __init__(self, *args, actor, model=None, instance: Territory | None = None, **kwargs):
        """Owners are the people `actor` may give records to, parents the territories they can see
        (the current picks stay selectable, so saving other changes keeps them)."""
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
        current_owner = Q(pk=instance.owner_id) if instance is not None and instance.owner_id else Q(pk__in=[])
        self.fields["owner"].queryset = User.objects.filter(
            Q(pk__in=assignable_users(actor).values("pk")) | current_owner).order_by("first_name", "last_name", "email")
        parents = Territory.objects.none()
        if model is not None:
            current_parent = Q(pk=instance.parent_id) if instance is not None and instance.parent_id else Q(pk__in=[])
            parents = Territory.objects.filter(
                Q(pk__in=territory_list(user=actor, model_id=model.pk).values("pk")) | current_parent)
        if instance is not None:
            parents = parents.exclude(pk=instance.pk)
        self.fields["parent"].queryset = parents.order_by("name")

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        for f in ("countries", "states", "zip_codes"):
            data[f] = [v.strip() for v in (data[f] or "").split(",") if v.strip()]
        return data

    def add_service_errors(self, error) -> None:
        for field, messages in error.message_dict.items():
            self.add_error(field if field in self.fields else None, messages)


class MemberForm(forms.Form):
    """A new member: one of the people the actor may give records to (members receive routed leads)."""

    user = forms.ModelChoiceField(queryset=User.objects.none())
    daily_capacity = forms.IntegerField(required=False, min_value=0, help_text="Leads per day; empty is unlimited")

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = assignable_users(actor)


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


def _listed(text: str) -> list[str]:
    return [v.strip() for v in (text or "").replace("\n", ",").split(",") if v.strip()]


class RuleForm(forms.Form):
    """A territory's matching rules as fields to pick and fill (the admin's rule editor and its live count)."""

    countries = forms.MultipleChoiceField(required=False, widget=forms.SelectMultiple(attrs={"size": 8}),
                                          help_text="Pick one or more; none means any country.")
    states = forms.CharField(required=False, help_text="State or region codes, comma-separated: CA, WA")
    zip_codes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                help_text="Comma or one per line: exact 94107, prefix 941*, range 94100-94199")
    industry = forms.CharField(required=False, max_length=100)
    min_employee_count = forms.IntegerField(required=False, min_value=0)
    max_employee_count = forms.IntegerField(required=False, min_value=0)
    min_annual_revenue = forms.DecimalField(required=False, min_value=0, max_digits=16, decimal_places=2)
    max_annual_revenue = forms.DecimalField(required=False, min_value=0, max_digits=16, decimal_places=2)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("states", "zip_codes"):
            if isinstance(self.initial.get(name), list):
                self.initial[name] = _csv(self.initial[name])
        use_pickers(self, industry="industry")
        self.fields["countries"].choices = country_choices()[1:]

    def clean_states(self) -> list[str]:
        return _listed(self.cleaned_data["states"])

    def clean_zip_codes(self) -> list[str]:
        return _listed(self.cleaned_data["zip_codes"])

    def rules(self) -> dict:
        """The rules as the territory stores them (lists for the geography, bounds as given)."""
        return {name: self.cleaned_data.get(name) for name in RULE_FIELDS}
