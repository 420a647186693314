"""User manager: email is the login."""

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import Group

from salesapp.roles import Role


class UserManager(BaseUserManager):
    """Creates users by email; superusers get the admin role."""

    use_in_migrations = True

    def _create(self, email, password, **extra):
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        if user.role in Role.values:
            group = Group.objects.filter(name=user.role).first()
            if group:
                user.groups.add(group)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True, role="admin")
        return self._create(email, password, **extra)
