"""Forms for the UI; they validate input, the views call services."""

from django import forms

from opportunities.models import Account, Contact, LossReason, Opportunity, Stage
from salesapp import fields as field_policy
from salesapp.assignment import assignable_users
from salesapp.choices import use_pickers
from salesapp.models import User


def owner_choices(user, instance):
    """Whom `user` may give the record to, plus its current owner (keeping an owner is no new pick)."""
    choices = assignable_users(user)
    return choices | User.objects.filter(pk=instance.owner_id) if instance.owner_id else choices


class BootstrapMixin:
    def _style(self):
        for field in self.fields.values():
            widget = field.widget
            css = "form-select" if isinstance(widget, forms.Select | forms.SelectMultiple) else "form-control"
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            widget.attrs.setdefault("class", css)


class AccountForm(BootstrapMixin, forms.ModelForm):
    allow_duplicate = forms.BooleanField(required=False, label="Create even if a similar account exists")

    class Meta:
        model = Account
        fields = ["name", "website_domain", "industry", "employee_count", "annual_revenue", "billing_country",
                  "billing_state", "billing_postal_code", "owner", "parent"]

    def __init__(self, *args, user=None, visible_accounts=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owner_choices(user, self.instance)
        self.fields["parent"].queryset = visible_accounts if visible_accounts is not None else Account.objects.none()
        use_pickers(self, country="billing_country", state="billing_state", industry="industry")
        if self.instance.pk:
            del self.fields["allow_duplicate"]
        self._style()


class ContactForm(BootstrapMixin, forms.ModelForm):
    allow_duplicate = forms.BooleanField(required=False, label="Create even if a similar contact exists")

    class Meta:
        model = Contact
        fields = ["first_name", "last_name", "email", "phone", "title", "buying_role", "owner"]

    def __init__(self, *args, user=None, accounts=None, **kwargs):
        """`accounts`: the accounts to pick from when the contact's account is not given by the page."""
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owner_choices(user, self.instance)
        self.fields["owner"].required = False
        self.fields["owner"].help_text = "Leave empty for the account's owner"
        if accounts is not None:
            self.fields = {"account": forms.ModelChoiceField(queryset=accounts.order_by("name")), **self.fields}
        if self.instance.pk:
            del self.fields["allow_duplicate"]
        self._style()


class OpportunityForm(BootstrapMixin, forms.ModelForm):
    stage = forms.ModelChoiceField(queryset=Stage.objects.filter(is_closed=False).order_by("order"),
                                   to_field_name="key", empty_label=None)
    probability = forms.IntegerField(min_value=0, max_value=100, required=False,
                                     help_text="Leave empty to follow the stage's default")

    class Meta:
        model = Opportunity
        fields = ["name", "account", "owner", "stage", "amount", "cost", "margin", "expected_close_date",
                  "probability", "forecast_category", "next_step", "source", "contacts"]
        widgets = {"expected_close_date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, user=None, visible_accounts=None, visible_contacts=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owner_choices(user, self.instance)
        self.fields["account"].queryset = visible_accounts if visible_accounts is not None else Account.objects.none()
        self.fields["contacts"].queryset = visible_contacts if visible_contacts is not None else Contact.objects.none()
        self.fields["contacts"].required = False
        field_policy.restrict_form(self, user, Opportunity)  # margin and cost: only for roles that may set them
        self.fields["forecast_category"].required = False
        self.fields["forecast_category"].choices = [("", "Follow stage and probability"),
                                                    *Opportunity.ForecastCategory.choices]
        if self.instance.pk:
            if self.instance.stage.is_closed:
                del self.fields["stage"]
            if not self.instance.probability_is_manual:
                self.initial["probability"] = None
            if not self.instance.forecast_category_is_manual:
                self.initial["forecast_category"] = ""
        self._style()


class CloseForm(BootstrapMixin, forms.Form):
    outcome = forms.ChoiceField(choices=[("won", "Won"), ("lost", "Lost")])
    reason = forms.ModelChoiceField(queryset=LossReason.objects.filter(is_active=True), required=False,
                                    label="Loss reason", help_text="Needed when the deal is lost")
    amount = forms.DecimalField(required=False, min_value=0, help_text="Needed when won, if the deal has none")
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Close note")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()


class SubmissionForm(BootstrapMixin, forms.Form):
    commit = forms.DecimalField(min_value=0)
    best_case = forms.DecimalField(min_value=0)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()
