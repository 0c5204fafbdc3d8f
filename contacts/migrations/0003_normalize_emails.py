"""Store every contact's e-mail in the spelling `normalize_email` gives new ones.

Before it, only case and surrounding white space were normalised, so two spellings of one address
(NFD and NFC accents, a Unicode and a punycode domain) could be two contacts of one workspace.
Such a pair cannot both take the normalised spelling (the unique constraint), and a migration must
not pick which contact to delete: the later one keeps its old spelling and is reported (stdout and
a warning in the log) for an admin to merge. Plain per-row ORM updates, so it runs the same on
SQLite, PostgreSQL and MongoDB.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass

from django.db import migrations
from django.db.models import F

# The product's own function, not a frozen copy: the point is that old rows end up spelled the
# way the code stores new ones.
from contacts.text import normalize_email

logger = logging.getLogger("contacts.migrations")


@dataclass(frozen=True)
class Collision:
    workspace_id: object
    kept_id: object  # the contact left with its old spelling
    holder_id: object  # the contact that has the normalised address
    old_email: str
    email: str

    def __str__(self) -> str:
        return (
            f"workspace {self.workspace_id}: contact {self.kept_id} keeps {self.old_email!r} because "
            f"contact {self.holder_id} has {self.email!r}; merge them"
        )


def normalize_contact_emails(contact_model, using: str) -> tuple[int, list[Collision]]:
    """Update each contact whose e-mail is not in normal spelling; (updated count, collisions)."""
    rows = list(
        contact_model.objects.using(using)
        .exclude(email=None)
        .order_by("created_at", "pk")
        .values_list("pk", "workspace_id", "email")
    )
    # Who holds each address now; a row already in normal spelling keeps its address.
    holder = {(workspace_id, email): pk for pk, workspace_id, email in rows}
    updated, collisions = 0, []
    for pk, workspace_id, email in rows:
        normal = normalize_email(email)
        if normal == email:
            continue
        taken_by = holder.get((workspace_id, normal)) if normal is not None else None
        if taken_by is not None and taken_by != pk:
            collisions.append(Collision(workspace_id, pk, taken_by, email, normal))
            continue
        contact_model.objects.using(using).filter(pk=pk).update(email=normal)
        updated += 1
        del holder[(workspace_id, email)]
        if normal is not None:
            holder[(workspace_id, normal)] = pk
    return updated, collisions


def normalize_emails(apps, schema_editor) -> None:
    contact_model = apps.get_model("contacts", "Contact")
    updated, collisions = normalize_contact_emails(contact_model, schema_editor.connection.alias)
    if updated:
        sys.stdout.write(f"\n  Normalised the e-mail address of {updated} contact(s).")
        # Rows changed behind the services: cached reads of every workspace move on.
        workspace_model = apps.get_model("contacts", "Workspace")
        workspace_model.objects.using(schema_editor.connection.alias).update(
            change_version=F("change_version") + 1
        )
    if collisions:
        lines = "".join(f"\n    {collision}" for collision in collisions)
        sys.stdout.write(
            f"\n  {len(collisions)} contact(s) kept their e-mail spelling because another contact of "
            f"the workspace has the same address:{lines}\n"
        )
        logger.warning(
            "Contacts whose e-mail is another spelling of another contact's address (merge them):%s", lines
        )


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0002_contact_version"),
    ]

    operations = [
        migrations.RunPython(normalize_emails, migrations.RunPython.noop, elidable=True),
    ]
