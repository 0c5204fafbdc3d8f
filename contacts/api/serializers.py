"""API representations. Field limits mirror the model so the published schema tells the truth."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator
from rest_framework import serializers

from contacts.models import (
    NOTES_MAX_LENGTH,
    PHONE_PATTERN,
    TAG_NAME_MAX_LENGTH,
    Contact,
    ContactStatus,
    Membership,
    Tag,
    phone_validator,
    tag_name_validator,
)
from contacts.selectors import ORDERING_CHOICES, ContactQuery
from contacts.services import MAX_TAGS_PER_CONTACT, ContactData
from contacts.text import (
    NAME_NEEDS_VISIBLE,
    OPTIONAL_LINE_PATTERN,
    TEXT_NEEDS_VISIBLE,
    VISIBLE_LINE_PATTERN,
    clean_email,
    validate_single_line,
)

# Text must contain something visible and no NUL (databases refuse it); published as a pattern.
# Neither matches "": the schema offers blank text as a `oneOf` branch of its own, which must not
# overlap the pattern's.
VISIBLE_TEXT_PATTERN = r"^[^\x00]*[^\s\x00][^\x00]*$"
NO_NUL_PATTERN = r"^[^\x00]+$"
TAG_PATTERN = tag_name_validator.regex.pattern
MAX_SEARCH_LENGTH = 200


def _reject_lone_surrogates(value: str) -> str:
    """JSON can carry unpaired UTF-16 surrogates; no database can store them."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise serializers.ValidationError("Text contains invalid characters (unpaired surrogates).") from None
    return value


class StrictStringMixin:
    """Refuse numbers and booleans where the schema says string (DRF would quietly convert them).

    Lengths are measured on the text as sent, as the schema's `maxLength` says: DRF would trim
    surrounding white space first and let 81 spaces through an 80-character limit.
    """

    def run_validation(self, data=serializers.empty):
        max_length = getattr(self, "max_length", None)
        if isinstance(data, str) and max_length is not None and len(data) > max_length:
            self.fail("max_length", max_length=max_length)
        return super().run_validation(data)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictRegexField(StrictStringMixin, serializers.RegexField):
    pass


class StrictEmailField(StrictStringMixin, serializers.EmailField):
    """Refuses invisible characters and bad international domains saying so, then validates (and
    hands on) the stored spelling: lower case, NFC, the domain in IDNA ASCII form."""

    def to_internal_value(self, data):
        try:
            return clean_email(super().to_internal_value(data))
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None


class SingleLineTextValidator(RegexValidator):
    """`contacts.text.validate_single_line`, whose messages name the problem. Its regular expression
    publishes the rule in the schema (less the few invisible characters beyond the basic plane,
    see `contacts.text.character_class`) and refuses whatever the two might ever disagree on."""

    def __init__(self, *, required: bool, visible_message: str) -> None:
        super().__init__(VISIBLE_LINE_PATTERN if required else OPTIONAL_LINE_PATTERN, visible_message)
        self.visible_message = visible_message

    def __call__(self, value: str) -> None:
        validate_single_line(value, visible_message=self.visible_message)
        super().__call__(value)


class TextField(StrictStringMixin, serializers.CharField):
    """CharField that refuses text no database can store, with the restriction in the schema.

    `single_line` fields (names and the like) follow the contact's text rules instead: no control
    or bidi override characters, and something visible, not only zero-width or filler characters.
    """

    def __init__(
        self, *, required_text: bool = False, single_line: bool = False, visible_message: str = "", **kwargs
    ):
        kwargs.setdefault("allow_blank", not required_text)
        super().__init__(**kwargs)
        self.validators.append(_reject_lone_surrogates)
        if single_line:
            self.validators.append(
                SingleLineTextValidator(
                    required=required_text, visible_message=visible_message or TEXT_NEEDS_VISIBLE
                )
            )
            return
        pattern = VISIBLE_TEXT_PATTERN if required_text else NO_NUL_PATTERN
        self.validators.append(
            RegexValidator(re.compile(pattern), "Enter visible text without NUL characters.")
        )


class WorkspaceSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="workspace.id", read_only=True)
    name = serializers.CharField(source="workspace.name", read_only=True)
    slug = serializers.CharField(source="workspace.slug", read_only=True)
    role = serializers.ChoiceField(choices=Membership._meta.get_field("role").choices, read_only=True)


class ContactSerializer(serializers.ModelSerializer):
    """A contact as integrators see it (docs/api.md)."""

    full_name = serializers.CharField(read_only=True)
    tags = serializers.SerializerMethodField()

    class Meta:
        model = Contact
        fields = [
            "id",
            "first_name",
            "last_name",
            "full_name",
            "email",
            "phone",
            "company",
            "job_title",
            "notes",
            "status",
            "tags",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "version": {
                "help_text": "Incremented by every change; sent as the `ETag`. Give it back in `If-Match`."
            }
        }

    def get_tags(self, contact: Contact) -> list[str]:
        return self.context.get("tags_by_contact", {}).get(contact.id, [])


class ContactWriteSerializer(serializers.Serializer):
    """Input for create / put / patch; the service validates again (uniqueness, normalisation)."""

    first_name = TextField(
        max_length=80, required_text=True, single_line=True, visible_message=NAME_NEEDS_VISIBLE
    )
    last_name = TextField(max_length=80, required=False, single_line=True, visible_message=NAME_NEEDS_VISIBLE)
    email = StrictEmailField(max_length=254, required=False, allow_blank=True, allow_null=True)
    phone = StrictRegexField(
        PHONE_PATTERN,
        max_length=40,
        required=False,
        allow_blank=True,
        error_messages={"invalid": phone_validator.message},
    )
    company = TextField(max_length=120, required=False, single_line=True)
    job_title = TextField(max_length=120, required=False, single_line=True)
    notes = TextField(max_length=NOTES_MAX_LENGTH, required=False, trim_whitespace=False)
    status = serializers.ChoiceField(choices=ContactStatus.choices, required=False)
    tags = serializers.ListField(
        # Not trimmed: the published pattern and length apply to exactly what is sent.
        child=StrictRegexField(
            TAG_PATTERN,
            max_length=TAG_NAME_MAX_LENGTH,
            trim_whitespace=False,
            error_messages={"invalid": tag_name_validator.message},
        ),
        max_length=MAX_TAGS_PER_CONTACT,
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone"].validators.append(_reject_lone_surrogates)

    def to_contact_data(self, *, replace: bool) -> ContactData:
        """`replace` (PUT) resets omitted fields to their defaults; otherwise omitted means unchanged."""
        data = dict(self.validated_data)
        if replace:
            defaults = {name: "" for name in ("last_name", "email", "phone", "company", "job_title", "notes")}
            data = {**defaults, "status": ContactStatus.LEAD, "tags": [], **data}
        if "email" in data and data["email"] is None:
            data["email"] = ""
        return ContactData.from_mapping(data)


class ContactQuerySerializer(serializers.Serializer):
    """The list's query string; anything malformed answers 400 naming the parameter."""

    search = TextField(
        max_length=MAX_SEARCH_LENGTH, required=False, help_text="Words matched as prefixes, ANDed."
    )
    tag = StrictRegexField(
        TAG_PATTERN,
        max_length=TAG_NAME_MAX_LENGTH,
        required=False,
        trim_whitespace=False,
        help_text="A tag name (case-insensitive); an unknown tag matches no contacts.",
    )
    company = TextField(max_length=120, required=False)
    status = serializers.ChoiceField(choices=ContactStatus.choices, required=False)
    ordering = serializers.ChoiceField(
        choices=list(ORDERING_CHOICES),
        required=False,
        default="",
        help_text="Without it: best match first while searching, else by name.",
    )
    page = serializers.IntegerField(min_value=1, max_value=1_000_000, required=False, default=1)
    page_size = serializers.IntegerField(
        min_value=1, max_value=200, required=False, default=settings.CONTACTS_PAGE_SIZE
    )

    def to_query(self) -> ContactQuery:
        data = self.validated_data
        return ContactQuery(
            search=data.get("search", ""),
            tag=" ".join(data.get("tag", "").split()).lower(),
            company=data.get("company", ""),
            status=data.get("status", ""),
            ordering=data["ordering"],
            page=data["page"],
        )


class TagSerializer(serializers.ModelSerializer):
    contact_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Tag
        fields = ["id", "name", "contact_count"]
        read_only_fields = fields


class PageQuerySerializer(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, max_value=1_000_000, required=False, default=1)
    page_size = serializers.IntegerField(
        min_value=1, max_value=200, required=False, default=settings.CONTACTS_PAGE_SIZE
    )
