"""Authentication backend with the role permissions cached across requests.

Every API request checks the role matrix (`user.has_perm`), which costs
ModelBackend two queries (user and group permissions). The permission set of
each user is kept in the cache under a version that any change to groups,
group permissions or user permissions bumps, so an admin's edit in the
console applies on the next request. While the cache is unavailable the set is
read from the database (salesapp.cache), and a change's version bump is replayed
when the cache answers again.
"""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from salesapp import cache

VERSION_KEY = "perms:version"
# The signed-in user as bearer-token requests read it (salesapp.api.auth): row and permission set in one entry.
USERS_VERSION_KEY = "auth:users:version"
TTL = 600


def users_changed() -> None:
    """Make every cached user entry stale: now, and again after commit (a reader may have cached the old row)."""
    cache.version_bump(USERS_VERSION_KEY)
    transaction.on_commit(lambda: cache.version_bump(USERS_VERSION_KEY))


def cached_user(user_id, load):
    """The user `user_id` with its permission set, from one cache entry; `load()` reads it when absent."""
    key = f"auth:user:{user_id}:{cache.version(USERS_VERSION_KEY)}"
    user = cache.get(key)
    if user is None:
        user = load()
        user.get_all_permissions()  # kept on the instance (_perm_cache), so it travels in the entry
        cache.set(key, user, TTL)
    return user


def permissions_changed(**kwargs) -> None:
    """Make every cached permission set stale (and the cached users that carry one)."""
    cache.version_bump(VERSION_KEY)
    users_changed()


class CachedModelBackend(ModelBackend):
    """ModelBackend whose per-user permission set is read from the cache."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            version = cache.version(VERSION_KEY)
            key = f"perms:user:{user_obj.pk}:{version}"
            perms = cache.get(key)
            if perms is None:
                perms = super().get_all_permissions(user_obj, obj)
                cache.set(key, perms, TTL)
            user_obj._perm_cache = perms
        return user_obj._perm_cache


def connect_invalidation(user_model) -> None:
    """Bump the version whenever roles or permissions change (called from the kernel's ready())."""
    for through in (user_model.groups.through, user_model.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(permissions_changed, sender=through, dispatch_uid=f"perms-{through._meta.label}")
    for model in (Group, Permission):
        post_save.connect(permissions_changed, sender=model, dispatch_uid=f"perms-save-{model._meta.label}")
        post_delete.connect(permissions_changed, sender=model, dispatch_uid=f"perms-delete-{model._meta.label}")
    post_save.connect(_user_saved, sender=user_model, dispatch_uid="perms-user-save")
    post_delete.connect(lambda **kwargs: users_changed(), sender=user_model, weak=False, dispatch_uid="auth-user-delete")


def _user_saved(sender, instance, update_fields=None, **kwargs) -> None:
    # is_superuser and is_active change what a user may do without touching a group.
    if update_fields is None or {"is_superuser", "is_active", "role"} & set(update_fields):
        permissions_changed()
    elif set(update_fields) != {"last_login"}:  # a sign-in's timestamp is not read from the entry
        users_changed()
