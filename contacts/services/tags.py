"""Tags: validation of names, race-safe creation, and admin edits."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError

from contacts.dbengine import atomic
from contacts.models import TAG_NAME_MAX_LENGTH, Tag, Workspace, normalize_tag_name, tag_name_validator
from contacts.services.common import bump_workspace_version_announced, unique_race_as_validation_error

MAX_TAGS_PER_CONTACT = 20


def clean_tag_names(names: Iterable[str]) -> list[str]:
    """Normalised, de-duplicated tag names, or a ValidationError saying which one is wrong."""
    cleaned: list[str] = []
    for raw in names:
        if not isinstance(raw, str):
            raise ValidationError({"tags": "Each tag must be text."})
        name = normalize_tag_name(raw)
        if not name:
            continue
        if len(name) > TAG_NAME_MAX_LENGTH:
            raise ValidationError(
                {"tags": f"Tag “{name[:20]}…” is longer than {TAG_NAME_MAX_LENGTH} characters."}
            )
        try:
            tag_name_validator(name)
        except ValidationError as error:
            raise ValidationError({"tags": f"Tag “{name}”: {error.messages[0]}"}) from None
        if name not in cleaned:
            cleaned.append(name)
    if len(cleaned) > MAX_TAGS_PER_CONTACT:
        raise ValidationError({"tags": f"A contact can have at most {MAX_TAGS_PER_CONTACT} tags."})
    return cleaned


def tags_get_or_create(*, workspace: Workspace, names: list[str]) -> list[Tag]:
    """The workspace's tags with these (already cleaned) names, creating the missing ones.

    Two colleagues adding the same new tag at once both get the one tag: `get_or_create`
    inserts in a savepoint and reads the other request's row when that insert won.
    """
    existing = {tag.name: tag for tag in Tag.objects.filter(workspace=workspace, name__in=names)}
    for name in names:
        if name not in existing:
            existing[name], _ = Tag.objects.get_or_create(workspace=workspace, name=name)
    return [existing[name] for name in names]


def tag_save(*, tag: Tag) -> Tag:
    """Create or rename a tag (the admin); a name the workspace already has is a form error.

    Validated with the workspace included: the admin shows the workspace read-only on a change
    form, and Django's ModelForm leaves read-only fields out of its unique checks.
    """
    tag.full_clean()
    with unique_race_as_validation_error(tag.validate_constraints), atomic():
        tag.save()
        bump_workspace_version_announced(tag.workspace)
    return tag
