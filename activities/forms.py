"""Quick forms to log a call, email, meeting/demo or task from a record's page."""

from django import forms

from activities.models import ActivityType
from salesapp.assignment import assignable_users

_LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local", "class": "form-control form-control-sm"}, format="%Y-%m-%dT%H:%M")
_TEXT = {"class": "form-control form-control-sm"}


class _QuickForm(forms.Form):
    type = forms.ChoiceField(choices=ActivityType.choices, widget=forms.HiddenInput)
    subject = forms.CharField(max_length=255, required=False, widget=forms.TextInput(attrs=_TEXT))
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={**_TEXT, "rows": 2}))

    def service_kwargs(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}
        return data


class CallForm(_QuickForm):
    duration_minutes = forms.IntegerField(required=False, label="Minutes", widget=forms.NumberInput(attrs=_TEXT))
    outcome = forms.ChoiceField(
        required=False,
        choices=[("", "—"), ("connected", "Connected"), ("left_voicemail", "Left voicemail"), ("no_answer", "No answer"),
                 ("wrong_number", "Wrong number")],
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )


class EmailForm(_QuickForm):
    description = forms.CharField(required=False, label="Body", widget=forms.Textarea(attrs={**_TEXT, "rows": 3}))


class MeetingForm(_QuickForm):
    type = forms.ChoiceField(choices=[("meeting", "Meeting"), ("demo", "Demo")],
                             widget=forms.Select(attrs={"class": "form-select form-select-sm"}))
    scheduled_at = forms.DateTimeField(required=False, label="When", widget=_LOCAL, input_formats=["%Y-%m-%dT%H:%M"])
    duration_minutes = forms.IntegerField(required=False, label="Minutes", widget=forms.NumberInput(attrs=_TEXT))
    participants = forms.CharField(required=False, help_text="Names or emails, comma-separated",
                                   widget=forms.TextInput(attrs=_TEXT))
    meeting_notes = forms.CharField(required=False, label="Notes", widget=forms.Textarea(attrs={**_TEXT, "rows": 2}))

    def service_kwargs(self) -> dict:
        data = super().service_kwargs()
        notes = data.pop("meeting_notes", "")
        if notes:
            data["metadata"] = {"meeting_notes": notes}
        return data


class TaskForm(_QuickForm):
    """A task for the actor, or for someone the assignment policy lets them give it to."""

    due_at = forms.DateTimeField(required=False, label="Due", widget=_LOCAL, input_formats=["%Y-%m-%dT%H:%M"])
    user_id = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Assignee",
                                     widget=forms.Select(attrs={"class": "form-select form-select-sm"}))

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        others = assignable_users(actor).exclude(pk=actor.pk)
        self.fields["user_id"].choices = [("", "Me")] + [(u.pk, str(u)) for u in others]


FORMS = {"call": CallForm, "email": EmailForm, "meeting": MeetingForm, "demo": MeetingForm, "task": TaskForm}
TABS = [("call", "Call", "telephone"), ("email", "Email", "envelope"), ("meeting", "Meeting", "people"),
        ("task", "Task", "check2-square")]


def form_for(kind: str, *args, actor, **kwargs) -> _QuickForm:
    """The quick form of a tab (call, email, meeting, demo, task); only the task form picks an assignee."""
    cls = FORMS.get(kind, CallForm)
    # One page shows every tab's form: ids of their own, so each label names its own field.
    kwargs.setdefault("auto_id", f"id_{kind}_%s")
    form = cls(*args, actor=actor, **kwargs) if cls is TaskForm else cls(*args, **kwargs)
    if not form.is_bound:
        form.initial.setdefault("type", "meeting" if kind == "demo" else kind)
    return form
