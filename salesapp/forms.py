"""Password forms: whoever sets a password (an admin, a reset link, the user) ends the old sessions and tokens."""

from django.contrib.auth.forms import AdminPasswordChangeForm, PasswordChangeForm, PasswordResetForm, SetPasswordForm

from salesapp.services import user_credentials_revoke
from salesapp.signin import signin_unlock


class _RevokesCredentials:
    """On save, every session and API token the user had before ends (salesapp.services.user_credentials_revoke).

    The views that keep the person who changed it signed in (their own password) refresh their
    session's hash after the save, so only the *other* sessions end.
    """

    def save(self, commit=True):
        user = super().save(commit=commit)
        if commit:
            user_credentials_revoke(user=user)
        return user


class _SiteLook:
    """Inputs styled as the site's (Bootstrap) for templates/registration/."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-control"


class AdminSetPasswordForm(_RevokesCredentials, AdminPasswordChangeForm):
    """An admin sets a user's password in the console."""


class OwnPasswordChangeForm(_SiteLook, _RevokesCredentials, PasswordChangeForm):
    """A signed-in user changes their own password (old one asked)."""


class PasswordResetRequestForm(_SiteLook, PasswordResetForm):
    """Asks for the email a reset link goes to (sent only to an active account with that email)."""


class ResetPasswordForm(_SiteLook, _RevokesCredentials, SetPasswordForm):
    """A user sets a new password through an emailed reset link; a sign-in lockout of theirs ends too."""

    def save(self, commit=True):
        user = super().save(commit=commit)
        if commit:
            signin_unlock(actor=user, user=user)
        return user
