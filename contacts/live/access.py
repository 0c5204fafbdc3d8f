"""Sockets follow access: a member removed or given another role, or a user deactivated, is told at
once; a browser that signs out has its sockets closed.

Connected in ContactsConfig.ready. The receivers only announce (after commit, like every side
effect); each socket of that user then reads its membership again and closes when it is gone.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_delete, post_save

from contacts.dbengine import after_commit
from contacts.live import broadcast
from contacts.models import Membership


def _membership_changed(sender: type, instance: Membership, **kwargs: Any) -> None:
    if kwargs.get("created"):
        return  # a new member has no sockets yet
    after_commit(broadcast.access_changed, instance.user_id, instance.workspace_id)


def _user_saved(sender: type, instance: Any, created: bool = False, **kwargs: Any) -> None:
    if not created and not instance.is_active:
        after_commit(broadcast.access_changed, instance.pk)


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
