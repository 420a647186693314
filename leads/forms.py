"""Lead forms: the UI validates input shapes here; business rules live in the services."""

from django import forms

from leads.models import Lead
from salesapp.choices import use_pickers
from salesapp.models import User

INPUT = {"class": "form-control"}


class LeadForm(forms.Form):
    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100, required=False)
    email = forms.CharField(max_length=254)
    phone = forms.CharField(max_length=40, required=False)
    company = forms.CharField(max_length=200, required=False)
    title = forms.CharField(max_length=150, required=False)
    industry = forms.CharField(max_length=100, required=False)
    employee_count = forms.CharField(required=False, help_text="Whole number")
    annual_revenue = forms.CharField(required=False, help_text="In the company currency")
    website = forms.CharField(max_length=200, required=False)
    country = forms.CharField(max_length=60, required=False)
    state = forms.CharField(max_length=50, required=False, label="State or region")
    postal_code = forms.CharField(max_length=20, required=False)
    source = forms.CharField(max_length=50, required=False)
    assigned_to = forms.ModelChoiceField(queryset=User.objects.none(), required=False,
                                         help_text="Whom you may give leads to")
    confirm_duplicate = forms.BooleanField(required=False, label="Save even though it may be a duplicate")

    # Choices of the form, not fields of the lead.
    CHOICES = ("confirm_duplicate",)

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assigned_to"].queryset = owners
        use_pickers(self, country="country", state="state", industry="industry", source="source")
        for field in self.fields.values():
            if isinstance(field, forms.BooleanField):
                field.widget.attrs["class"] = "form-check-input"
            elif isinstance(field.widget, forms.Select):
                field.widget.attrs["class"] = "form-select"
            else:
                field.widget.attrs.update(INPUT)

    @classmethod
    def initial_from(cls, lead: Lead) -> dict:
        data = {name: getattr(lead, name) for name in cls.base_fields if name not in cls.CHOICES}
        data["assigned_to"] = lead.assigned_to_id
        return data

    def lead_fields(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if name not in self.CHOICES}


class LeadCreateForm(LeadForm):
    """A new lead: empty owner means a rep keeps it and routing places it for anyone else, unless asked."""

    route = forms.BooleanField(required=False, label="Route it for me",
                               help_text="Let territory routing choose the owner instead of keeping the lead")
    CHOICES = ("confirm_duplicate", "route")

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, owners=owners, **kwargs)
        self.fields["assigned_to"].help_text = "Empty: a rep keeps the lead; for anyone else routing decides"


class ConvertForm(forms.Form):
    opportunity_name = forms.CharField(max_length=200, required=False, widget=forms.TextInput(attrs=INPUT),
                                       help_text="Empty: '<company>: new business'")
    amount = forms.DecimalField(max_digits=16, decimal_places=2, required=False, min_value=0,
                                widget=forms.NumberInput(attrs=INPUT))
    expected_close_date = forms.DateField(required=False, widget=forms.DateInput(attrs={**INPUT, "type": "date"}))


class AssignForm(forms.Form):
    assigned_to = forms.ModelChoiceField(queryset=User.objects.none(), required=False,
                                         widget=forms.Select(attrs={"class": "form-select"}))
    route = forms.BooleanField(required=False, label="Route automatically (territory and policy)")

    def __init__(self, *args, owners=None, **kwargs):
        super().__init__(*args, **kwargs)
        if owners is not None:
            self.fields["assigned_to"].queryset = owners

    def clean(self):
        data = super().clean()
        if not data.get("route") and not data.get("assigned_to"):
            self.add_error("assigned_to", "Choose a user, or route automatically.")
        return data


class MergeForm(forms.Form):
    """The duplicate picked from the list the lead's page shows (each has its own merge button)."""

    other_id = forms.IntegerField(widget=forms.HiddenInput)
