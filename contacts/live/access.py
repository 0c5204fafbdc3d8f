"""Sockets follow access: a member removed or given another role, or a user deactivated, is told at once.

Connected in ContactsConfig.ready. The receivers only announce (after commit, like every side
effect); each socket of that user then reads its membership again and closes when it is gone.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
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


def connect() -> None:
    user_model = get_user_model()
    post_save.connect(_membership_changed, sender=Membership, dispatch_uid="live-membership-saved")
    post_delete.connect(_membership_changed, sender=Membership, dispatch_uid="live-membership-deleted")
    post_save.connect(_user_saved, sender=user_model, dispatch_uid="live-user-saved")
    post_delete.connect(_user_deleted, sender=user_model, dispatch_uid="live-user-deleted")
