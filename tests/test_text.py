"""contacts/text.py: e-mail spelling, invisible characters, visible text (pure functions, no database)."""

from __future__ import annotations

import re
import sys
import unicodedata

import pytest
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from contacts.text import (
    FORMAT_AND_CONTROL_RANGES,
    NAME_NEEDS_VISIBLE,
    OPTIONAL_LINE_PATTERN,
    VISIBLE_LINE_PATTERN,
    WHITESPACE_RANGES,
    clean_email,
    code_point,
    fillers_to_spaces,
    find_invisible_character,
    find_line_control,
    has_visible_character,
    normalize_email,
    refuse_invisible,
    validate_single_line,
)


def messages(error: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return error.value.messages


# --- One spelling per address -----------------------------------------------------------------

LOOK_ALIKES = [
    pytest.param("Ann@EXAMPLE.com", "ann@example.com", id="upper-and-lower-case"),
    pytest.param("  ann@example.com\n", "ann@example.com", id="surrounding-white-space"),
    pytest.param("ann@exa\u0308mple.com", "ann@exämple.com", id="nfd-and-nfc-accent"),
    pytest.param("ann@exämple.com", "ann@xn--exmple-cua.com", id="unicode-and-punycode-domain"),
    pytest.param("ann@EXÄMPLE.COM", "ann@xn--exmple-cua.com", id="upper-case-unicode-domain"),
    pytest.param("ann@XN--EXMPLE-CUA.COM", "ann@exämple.com", id="upper-case-punycode-domain"),
    pytest.param("jos\u0065\u0301@example.com", "josé@example.com", id="nfd-local-part"),
    pytest.param("ann@пример.рф", "ann@xn--e1afmkfd.xn--p1ai", id="cyrillic-domain-and-tld"),
    pytest.param("ann@example。com", "ann@example.com", id="ideographic-full-stop"),
]


@pytest.mark.parametrize(("one", "other"), LOOK_ALIKES)
def test_look_alike_spellings_of_one_address_normalise_to_the_same_text(one, other):
    assert normalize_email(one) == normalize_email(other)
    assert clean_email(one) == clean_email(other) == normalize_email(one)


def test_a_unicode_domain_is_stored_in_its_idna_ascii_form():
    assert normalize_email(" Ann@Exämple.com ") == "ann@xn--exmple-cua.com"


def test_sharp_s_keeps_its_own_idna_2008_domain_instead_of_becoming_ss():
    assert normalize_email("ann@straße.de") == "ann@xn--strae-oqa.de"
    assert normalize_email("ann@straße.de") != normalize_email("ann@strasse.de")


@pytest.mark.parametrize("email", ["ann@exämple.com", "ann@пример.рф", "ann@straße.de", "ann@EXAMPLE.com"])
def test_djangos_email_validator_accepts_the_normalised_form(email):
    validate_email(clean_email(email))


@pytest.mark.parametrize("blank", ["", "   ", "\n\t", None])
def test_a_blank_email_normalises_to_none(blank):
    assert normalize_email(blank) is None
    assert clean_email(blank) is None


def test_normalising_is_idempotent():
    once = normalize_email(" ANN@Exa\u0308mple.com ")

    assert normalize_email(once) == once
    assert clean_email(once) == once


def test_text_without_at_sign_is_only_tidied_for_the_email_validator_to_refuse():
    assert clean_email(" Not An Address ") == "not an address"


# --- Invisible characters in e-mails ----------------------------------------------------------

INVISIBLE = {
    "\u200b": "zero-width space",
    "\u200c": "zero-width non-joiner",
    "\u200d": "zero-width joiner",
    "\u2060": "word joiner",
    "\ufeff": "byte order mark",
    "\u00ad": "soft hyphen",
    "\u200e": "left-to-right mark",
    "\u200f": "right-to-left mark",
    "\u202a": "left-to-right embedding",
    "\u202b": "right-to-left embedding",
    "\u202c": "pop directional formatting",
    "\u202d": "left-to-right override",
    "\u202e": "right-to-left override",
    "\u2066": "left-to-right isolate",
    "\u2067": "right-to-left isolate",
    "\u2068": "first strong isolate",
    "\u2069": "pop directional isolate",
    "\u115f": "hangul choseong filler",
    "\u1160": "hangul jungseong filler",
    "\u3164": "hangul filler",
    "\uffa0": "halfwidth hangul filler",
    "\u034f": "combining grapheme joiner",
    "\ufe0f": "variation selector 16",
    "\u2800": "braille pattern blank",
    "\x00": "NUL",
    "\x07": "bell (another control character)",
    "\x7f": "delete",
    "\u0085": "next line (C1 control)",
    "\U000e0041": "tag latin capital letter a",
}


PLACES = {
    "local-part": "an{}n@example.com",
    "domain": "ann@exam{}ple.com",
    # Surrounding white space (U+0085 included) is stripped like spaces; anything else is refused.
    "leading": "{}ann@example.com",
}


@pytest.mark.parametrize(
    ("character", "place"),
    [
        pytest.param(character, place, id=f"{place}-{name}")
        for character, name in INVISIBLE.items()
        for place in PLACES
        if not (place == "leading" and character.isspace())
    ],
)
def test_an_invisible_character_in_an_email_is_refused_naming_its_code_point(character, place):
    email = PLACES[place].format(character)

    with pytest.raises(ValidationError) as error:
        clean_email(email)

    assert messages(error) == [
        f"The e-mail address contains an invisible character ({code_point(character)}); retype it."
    ]
    assert error.value.code == "invisible_character"


def test_the_refusal_names_the_code_point_as_unicode_charts_do():
    with pytest.raises(ValidationError) as error:
        refuse_invisible("ann\u200b@example.com")

    assert messages(error) == ["The e-mail address contains an invisible character (U+200B); retype it."]


def test_normalize_email_never_raises_so_save_can_call_it():
    assert normalize_email("ann\u200b@example.com") == "ann\u200b@example.com"
    assert normalize_email("ann@☃.net") == "ann@☃.net"


# --- International domains that have no IDNA form ----------------------------------------------


@pytest.mark.parametrize(
    "email",
    [
        pytest.param("ann@☃.net", id="symbol-not-allowed-by-idna-2008"),
        pytest.param("ann@" + "ä" * 70 + ".com", id="label-too-long"),
        pytest.param("ann@exämple.xn--zz", id="bad-punycode-label"),
        pytest.param("ann@aעברית.com", id="mixed-direction-label"),
        pytest.param("ann@-exämple.com", id="leading-hyphen"),
        pytest.param("ann@exä mple.com", id="space-in-domain"),
        pytest.param("ann@exä\ud800mple.com", id="lone-surrogate"),
    ],
)
def test_a_domain_without_an_idna_form_is_a_clear_validation_error(email):
    with pytest.raises(ValidationError) as error:
        clean_email(email)

    assert error.value.code == "invalid_domain"
    assert "is not a valid domain name" in messages(error)[0]
    assert email.rpartition("@")[2].lower()[:60] in messages(error)[0]


def test_a_long_domain_is_quoted_back_shortened():
    with pytest.raises(ValidationError) as error:
        clean_email("ann@" + "ä" * 200 + ".com")

    assert "…" in messages(error)[0]
    assert len(messages(error)[0]) < 200


def test_an_overlong_address_is_left_to_the_length_check_without_idna_work():
    email = "ann@" + "ä" * 400 + ".com"

    assert clean_email(email) == email


# --- Visible text -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "\u200b",
        "\u200b\u200c\u200d",
        "\u3164",
        "\u115f\u1160",
        "\uffa0",
        "\u00ad",
        "\u2800",
        " \u3000\u00a0",
        "\u2060\ufeff",
        "\u200e\u200f",
        "\ufe0f\u034f",
        "",
    ],
)
def test_text_made_only_of_invisible_characters_or_white_space_has_nothing_visible(text):
    assert not has_visible_character(text)


@pytest.mark.parametrize(
    "text",
    [
        "Ann",
        "7",
        ".",
        "😀",
        "\u200bAnn",
        "👩\u200d💻",  # an emoji sequence held together by a zero-width joiner
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian needs the zero-width non-joiner
        "क्\u200dष",  # Devanagari with a zero-width joiner
        "\u3164A",
    ],
)
def test_text_with_a_letter_digit_or_sign_is_visible(text):
    assert has_visible_character(text)


@pytest.mark.parametrize("text", ["\u200b", "\u3164\u3164", "\u00ad", "\u2800"])
def test_a_name_of_only_invisible_characters_is_refused(text):
    with pytest.raises(ValidationError) as error:
        validate_single_line(text, visible_message=NAME_NEEDS_VISIBLE)

    assert messages(error) == [NAME_NEEDS_VISIBLE]


@pytest.mark.parametrize("text", ["", "   "])
def test_blank_text_is_left_to_the_fields_own_required_rule(text):
    validate_single_line(text, visible_message=NAME_NEEDS_VISIBLE)


@pytest.mark.parametrize(
    "character", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]
)
def test_bidi_embedding_override_and_isolate_controls_are_refused_anywhere_in_a_line(character):
    with pytest.raises(ValidationError) as error:
        validate_single_line(f"Ann{character}Leeds")

    assert error.value.code == "control_character"
    assert code_point(character) in messages(error)[0]


@pytest.mark.parametrize("character", ["\x00", "\x01", "\x1b", "\x7f", "\x9b"])
def test_control_characters_other_than_white_space_are_refused_in_a_line(character):
    assert find_line_control(f"Ann{character}") == character


@pytest.mark.parametrize(
    "text", ["Ann\tLeeds", "Ann\nLeeds", "\u0627\u200f(1)", "Ann\u200bLeeds", "👩\u200d💻"]
)
def test_white_space_marks_and_joiners_inside_visible_text_are_allowed_in_a_line(text):
    validate_single_line(text, visible_message=NAME_NEEDS_VISIBLE)


def test_fillers_count_as_spaces_where_white_space_is_collapsed():
    assert fillers_to_spaces("vip\u3164\uffa0") == "vip  "


def test_a_space_is_left_to_the_email_validator_but_a_tab_is_an_invisible_character():
    assert find_invisible_character("ann @example.com") is None
    assert find_invisible_character("ann\t@example.com") == "\t"


# --- The published patterns say exactly what the checks do ------------------------------------

SAMPLES = [
    *(c for c in INVISIBLE if c <= "\uffff"),
    *(f"Ann{c}" for c in INVISIBLE),
    *(f"{c} " for c in INVISIBLE if c <= "\uffff"),
    "",
    " ",
    "Ann",
    " Ann ",
    "Ann\nLeeds",
    "\u0301",
    "\U000e0080",  # unassigned: drawn as a box, so it counts as visible
    "\ue000",
    "👩\u200d💻",
    "\u3164 \u200b",
    "a\x00",
]


def _accepted(text: str, *, required: bool) -> bool:
    if required and not text.strip():
        return False  # blank: the API's allow_blank=False refuses it before any validator
    try:
        validate_single_line(text, visible_message=NAME_NEEDS_VISIBLE)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("text", SAMPLES)
def test_the_line_patterns_accept_exactly_what_the_checks_accept(text):
    assert bool(re.search(VISIBLE_LINE_PATTERN, text)) == _accepted(text, required=True)
    # The empty string is the schema's separate `maxLength: 0` branch, so the pattern leaves it out.
    optional = text == "" or bool(re.search(OPTIONAL_LINE_PATTERN, text))
    assert optional == _accepted(text, required=False)


@pytest.mark.parametrize("text", ["\U000e0041", "\U000e0020\U000e007f", "\U0001d173 ", "\U000e0100"])
def test_invisible_characters_beyond_the_basic_plane_are_left_out_of_the_patterns_only(text):
    # Schema tools cannot spell them (see character_class); the checks still refuse such a name.
    assert re.search(VISIBLE_LINE_PATTERN, text)
    assert not _accepted(text, required=True)


def test_neither_line_pattern_matches_the_empty_string_so_one_of_branches_do_not_overlap():
    assert not re.search(VISIBLE_LINE_PATTERN, "")
    assert not re.search(OPTIONAL_LINE_PATTERN, "")


def test_the_white_space_table_is_pythons_white_space():
    table = {code for start, end in WHITESPACE_RANGES for code in range(start, end + 1)}

    assert table == {code for code in range(sys.maxunicode + 1) if chr(code).isspace()}


def test_the_invisible_table_holds_every_format_and_control_character_of_this_python():
    table = {code for start, end in FORMAT_AND_CONTROL_RANGES for code in range(start, end + 1)}
    unicode = {code for code in range(sys.maxunicode + 1) if unicodedata.category(chr(code)) in ("Cf", "Cc")}

    assert table == unicode, f"update FORMAT_AND_CONTROL_RANGES for Unicode {unicodedata.unidata_version}"
