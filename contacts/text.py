"""Text rules for what people type or paste: invisible characters and look-alike e-mail spellings.

Pure functions (no database, no request): the models, the forms and the API call them, so every
way in applies the same rules.

- An e-mail address is stored in one spelling per mailbox: Unicode NFC, lower case, the domain in
  its IDNA ASCII form (`exämple.com` → `xn--exmple-cua.com`). Different spellings of one address
  then collide on the unique (workspace, email) constraint instead of becoming two contacts.
- An invisible character inside an e-mail address is refused, not removed: the person sees an
  address that looks right, so they are told what is wrong and retype it.
- A single-line text (names, company, job title, phone) never holds a control character or a bidi
  embedding / override / isolate control: those reorder the text around them, so the stored text
  can display as something else. Zero-width joiners and the like are kept inside visible text
  (Persian, Indic scripts and emoji sequences need them), but text made only of invisible
  characters does not count as a name.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

import idna
from django.core.exceptions import ValidationError

CodeRanges = tuple[tuple[int, int], ...]

# Format (Cf) and control (Cc) characters of Unicode 14, Python 3.11's character database, as
# ranges. A table rather than `unicodedata.category()` so the published API patterns can state
# exactly the same set; a test compares it with `unicodedata`, so an upgrade that adds some fails.
FORMAT_AND_CONTROL_RANGES: CodeRanges = (
    (0x0000, 0x001F),
    (0x007F, 0x009F),
    (0x00AD, 0x00AD),  # soft hyphen
    (0x0600, 0x0605),
    (0x061C, 0x061C),  # Arabic letter mark
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),  # Mongolian vowel separator
    (0x200B, 0x200F),  # zero-width space, non-joiner, joiner; left-to-right and right-to-left marks
    (0x202A, 0x202E),  # bidi embeddings and overrides
    (0x2060, 0x2064),  # word joiner and invisible operators
    (0x2066, 0x206F),  # bidi isolates and deprecated format characters
    (0xFEFF, 0xFEFF),  # byte order mark / zero-width no-break space
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x13438),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),  # tag characters (can smuggle hidden ASCII)
)
# Letters, marks and symbols that draw nothing although Unicode does not class them as format
# characters: the Hangul fillers (letters, so `\w` accepts them: the usual "blank name" trick),
# the combining grapheme joiner, variation selectors, Mongolian free variation selectors, the
# Khmer inherent vowels, the Khitan filler and the blank Braille pattern.
BLANK_RANGES: CodeRanges = (
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180D),
    (0x180F, 0x180F),
    (0x2800, 0x2800),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0x16FE4, 0x16FE4),
    (0xE0100, 0xE01EF),
)
INVISIBLE_RANGES: CodeRanges = FORMAT_AND_CONTROL_RANGES + BLANK_RANGES
HANGUL_FILLERS = "\u115f\u1160\u3164\uffa0"
# Never allowed in single-line text: control characters other than white space (which single-line
# fields collapse to one space) and the bidi embedding, override and isolate controls. The
# left-to-right and right-to-left marks (U+200E, U+200F) only nudge neutral characters such as
# punctuation, and right-to-left names legitimately carry them, so they stay.
LINE_FORBIDDEN_RANGES: CodeRanges = (
    (0x0000, 0x0008),
    (0x000E, 0x001B),
    (0x007F, 0x0084),
    (0x0086, 0x009F),
    (0x202A, 0x202E),
    (0x2066, 0x2069),
)


def _code_points(ranges: CodeRanges) -> frozenset[int]:
    return frozenset(code for start, end in ranges for code in range(start, end + 1))


_INVISIBLE = _code_points(INVISIBLE_RANGES)
_LINE_FORBIDDEN = _code_points(LINE_FORBIDDEN_RANGES)
# Longer than any address the e-mail field accepts: IDNA work on longer input would be wasted
# (the length check refuses it anyway) and slow for a pasted novel.
_MAX_EMAIL_WORK_LENGTH = 320

INVISIBLE_IN_EMAIL = "The e-mail address contains an invisible character ({code}); retype it."
BAD_EMAIL_DOMAIN = (
    "The part after @ (“{domain}”) is not a valid domain name; check the spelling of the e-mail address."
)
LINE_CONTROL = (
    "This text contains an invisible control character ({code}) that can change how it is shown; retype it."
)
NAME_NEEDS_VISIBLE = "Enter a name with at least one visible letter or digit."
TEXT_NEEDS_VISIBLE = "Enter at least one visible letter or digit, or leave this field empty."


def code_point(character: str) -> str:
    """`"\\u200b"` → `"U+200B"`, the way Unicode charts and character pickers name it."""
    return f"U+{ord(character):04X}"


def find_invisible_character(text: str) -> str | None:
    """The first format, control (tabs and line breaks too) or blank-drawing character in `text`."""
    for character in text:
        if ord(character) in _INVISIBLE:
            return character
    return None


def find_line_control(text: str) -> str | None:
    """The first character single-line text may never hold (see `LINE_FORBIDDEN_RANGES`)."""
    for character in text:
        if ord(character) in _LINE_FORBIDDEN:
            return character
    return None


def is_visible(character: str) -> bool:
    return not character.isspace() and ord(character) not in _INVISIBLE


def has_visible_character(text: str) -> bool:
    """Whether `text` draws anything: a character that is neither white space nor invisible."""
    return any(is_visible(character) for character in text)


def fillers_to_spaces(text: str) -> str:
    """Hangul fillers draw nothing, so where white space is collapsed they count as spaces."""
    return text.translate(dict.fromkeys(map(ord, HANGUL_FILLERS), " "))


def validate_single_line(value: str, *, visible_message: str | None = None) -> None:
    """Refuse control characters in single-line text and, with `visible_message`, invisible-only text.

    Empty or white-space-only text passes: whether a field may be blank is the field's own rule.
    """
    control = find_line_control(value)
    if control:
        raise ValidationError(
            LINE_CONTROL.format(code=code_point(control)), code="control_character", params={"value": value}
        )
    if visible_message and value.strip() and not has_visible_character(value):
        raise ValidationError(visible_message, code="no_visible_character", params={"value": value})


def refuse_invisible(email: str) -> None:
    """A ValidationError naming the first invisible character of an e-mail address, if it has one."""
    invisible = find_invisible_character(email)
    if invisible:
        raise ValidationError(
            INVISIBLE_IN_EMAIL.format(code=code_point(invisible)),
            code="invisible_character",
            params={"value": email},
        )


def email_domain_to_ascii(domain: str) -> str:
    """The IDNA ASCII form of a domain (`exämple.com` → `xn--exmple-cua.com`).

    IDNA 2008 with the UTS #46 mapping browsers use (not Python's IDNA 2003 codec, which turns
    `straße.de` into the different domain `strasse.de`). ASCII domains are only lower-cased:
    Django's EmailValidator judges them. Raises UnicodeError (idna.IDNAError) for a domain that
    has no IDNA form.
    """
    if domain.isascii():
        return domain.lower()
    return idna.encode(domain, uts46=True).decode("ascii")


def _normal_spelling(email: str) -> tuple[str, str]:
    """(the address in NFC and lower case, its domain part) — before any IDNA conversion."""
    email = unicodedata.normalize("NFC", unicodedata.normalize("NFC", email).lower())
    _local, at, domain = email.rpartition("@")
    return email, domain if at else ""


def normalize_email(email: str | None) -> str | None:
    """The stored spelling of an e-mail address; None for an empty one (NULL never clashes).

    Never raises, so `save()` can call it on anything: a domain with no IDNA form is kept as typed
    (validation, `clean_email`, refuses such addresses before they are saved).
    """
    email = (email or "").strip()
    if not email:
        return None
    email, domain = _normal_spelling(email)
    if domain and len(email) <= _MAX_EMAIL_WORK_LENGTH:
        try:
            return email[: -len(domain)] + email_domain_to_ascii(domain)
        except UnicodeError:
            pass
    return email


def clean_email(email: str | None) -> str | None:
    """`normalize_email` for validation: a ValidationError instead of an unsafe or unusable address.

    Whether the result is a well-formed address is left to Django's EmailValidator, which accepts
    the IDNA ASCII form this returns.
    """
    email = (email or "").strip()
    if not email:
        return None
    refuse_invisible(email)
    email, domain = _normal_spelling(email)
    if not domain or len(email) > _MAX_EMAIL_WORK_LENGTH:
        return email
    try:
        return email[: -len(domain)] + email_domain_to_ascii(domain)
    except UnicodeError:
        shown = domain if len(domain) <= 60 else domain[:60] + "…"
        raise ValidationError(
            BAD_EMAIL_DOMAIN.format(domain=shown), code="invalid_domain", params={"value": email}
        ) from None


def character_class(ranges: Iterable[tuple[int, int]]) -> str:
    """The inside of a regular-expression character class for the basic-plane part of these ranges.

    Written `\\uXXXX`, which Python's `re` and ECMA-262 (JSON Schema's dialect) read alike. Code
    points beyond the basic plane are left out: ECMA-262 has no escape for them that Python reads,
    and drf-spectacular and schemathesis turn literal ones into `\\UXXXXXXXX`, which ECMA-262
    refuses. So a text made only of such invisible characters (tag characters, a few format
    controls) matches a published pattern yet is refused by the checks above, with a 400.
    """

    def one(code: int) -> str:
        return f"\\u{code:04x}"

    basic = [(start, min(end, 0xFFFF)) for start, end in ranges if start <= 0xFFFF]
    return "".join(one(start) if start == end else f"{one(start)}-{one(end)}" for start, end in basic)


# Python's white space (`str.isspace`, what `strip()` and `split()` remove), spelled out: `\s`
# means less in ECMA-262, and some schema tools read it as ASCII only.
WHITESPACE_RANGES: CodeRanges = (
    (0x0009, 0x000D),
    (0x001C, 0x0020),
    (0x0085, 0x0085),
    (0x00A0, 0x00A0),
    (0x1680, 0x1680),
    (0x2000, 0x200A),
    (0x2028, 0x2029),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
)
_FORBIDDEN_CLASS = character_class(LINE_FORBIDDEN_RANGES)
_BLANK_CLASS = character_class(WHITESPACE_RANGES + INVISIBLE_RANGES)
_SPACE_CLASS = character_class(WHITESPACE_RANGES)
# `validate_single_line` as regular expressions, for schemas that publish the rule as a pattern.
# Required: at least one visible character. Optional: that, or white space only (which is stored
# blank). Neither matches the empty string: a schema offers that as a branch of its own, and
# `oneOf` branches must not overlap.
_LINE_WITH_VISIBLE = f"[^{_FORBIDDEN_CLASS}]*[^{_BLANK_CLASS}][^{_FORBIDDEN_CLASS}]*"
VISIBLE_LINE_PATTERN = f"^{_LINE_WITH_VISIBLE}$"
OPTIONAL_LINE_PATTERN = f"^(?:[{_SPACE_CLASS}]+|{_LINE_WITH_VISIBLE})$"
