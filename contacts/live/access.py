"""Sockets follow access: a member removed or given another role, or a user deactivated, is told at
once; a browser that signs out has its sockets closed, and so do the user's other browsers when
the password changes (Django no longer accepts their sessions).

Connected in ContactsConfig.ready. The receivers only announce (after commit, like every side
effect); each socket of that user then reads its membership again and closes when it is gone.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_delete, post_save
from django.utils.crypto import constant_time_compare

from contacts.dbengine import after_commit
from contacts.live import broadcast
from contacts.models import Membership


def _membership_changed(sender: type, instance: Membership, **kwargs: Any) -> None:
    if kwargs.get("created"):
        return  # a new member has no sockets yet
    after_commit(broadcast.access_changed, instance.user_id, instance.workspace_id)


def _user_saved(sender: type, instance: Any, created: bool = False, **kwargs: Any) -> None:
    if created:
        return
    if not instance.is_active:
        after_commit(broadcast.access_changed, instance.pk)
    elif getattr(instance, "_password", None) is not None:
        # `set_password` keeps the new password in `_password` until `save()` has run (Django's
        # hook for password validators): a new password, so the user's other sessions are over.
        after_commit(broadcast.credentials_changed, instance.pk)


def session_refused(session: Any, user_id: Any) -> bool:
    """Whether Django now refuses this session, read afresh from the session store: it still
    exists but no longer carries the hash of the user's current password (Django's own test in
    `get_user`), or the user is gone or inactive.

    A session that no longer exists is not refused here: it either signed out (its sockets were
    closed then) or was renewed under a new key by the view that changed the password, in the
    browser that is still signed in. A store reads a missing session as empty, and a signed-in
    session always holds the hash (`login()` writes it), so no hash means no session.
    """
    session_key = getattr(session, "session_key", None)
    if session_key is None:
        return False
    store = import_module(settings.SESSION_ENGINE).SessionStore  # as Django's SessionMiddleware
    expected = store(session_key=session_key).get(HASH_SESSION_KEY)
    if expected is None:
        return False
    user = get_user_model()._default_manager.filter(pk=user_id, is_active=True).first()
    return not (user and constant_time_compare(expected, user.get_session_auth_hash()))


def _user_deleted(sender: type, instance: Any, **kwargs: Any) -> None:
    after_commit(broadcast.access_changed, instance.pk)


def _signed_out(sender: type, request: Any, user: Any, **kwargs: Any) -> None:
    # Sent before the session is flushed: its key still names the sockets opened with it.
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        after_commit(broadcast.session_ended, session_key)


def connect() -> None:
    user_model = get_user_model()
    post_save.connect(_membership_changed, sender=Membership, dispatch_uid="live-membership-saved")
    post_delete.connect(_membership_changed, sender=Membership, dispatch_uid="live-membership-deleted")
    post_save.connect(_user_saved, sender=user_model, dispatch_uid="live-user-saved")
    post_delete.connect(_user_deleted, sender=user_model, dispatch_uid="live-user-deleted")
    user_logged_out.connect(_signed_out, dispatch_uid="live-signed-out")
