"""Hostile query strings on the pages: every parameter of the contact list and of the tag suggestions.

Whatever arrives in the query string, the page answers 200; a value that cannot be used is dropped
with a message saying so. Values are sent percent-encoded exactly as a browser or a script could,
including bytes that are not UTF-8 and encoded lone surrogates.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from contacts.factories import ContactFactory

LIST_PARAMETERS = ["search", "status", "tag", "company", "sort", "page"]
SUGGEST_PARAMETERS = ["q", "tags", "add", "exclude"]

# Already percent-encoded, so each reaches the server byte for byte.
HOSTILE = {
    "superscript two": quote("²"),
    "circled one": quote("①"),
    "arabic-indic three": quote("٣"),
    "fullwidth one": quote("１"),
    "negative": "-1",
    "zero": "0",
    "exponent": "1e3",
    "fraction": "1.5",
    "huge number": "9" * 40,
    "padded": "%201%20",
    "NUL": "%00",
    "NUL inside": "a%00b",
    "lone surrogate": "%ED%A0%80",
    "not UTF-8": "%FF",
    "overlong UTF-8": "%C0%AF",
    "broken escape": "%zz%",
    "lone percent": "%",
    "very long": "x" * 20_000,
    "long emoji": quote("🙂" * 500),
    "right-to-left override": quote("\u202e"),
    "byte order mark": quote("\ufeff"),
    "only spaces": "%20%20%20",
    "control characters": "%01%02%1b%7f",
    "sql": quote("' OR 1=1 --"),
    "like wildcards": quote("%_\\"),
    "markup": quote("<script>alert(1)</script>"),
    "regex": quote("(a+)+$[.*"),
    "commas": quote(",,,"),
    "lookup syntax": "name__startswith",
    "dunder": "__class__",
}


def list_path(workspace) -> str:
    return f"/w/{workspace.slug}/contacts/"


def suggest_path(workspace) -> str:
    return f"/w/{workspace.slug}/tags/suggest/"


def names_in(response) -> list[str]:
    return re.findall(r'<span class="person__name">([^<]+)</span>', response.text)


def problems_in(response) -> list[str]:
    block = re.search(r'class="alert alert--warning" role="alert">(.*?)</div>', response.text, re.S)
    return re.findall(r"<li>(.*?)</li>", block.group(1), re.S) if block else []


@pytest.fixture
def listed(workspace):
    return ContactFactory(
        workspace=workspace, first_name="Annabel", last_name="Leeds", tags=["vip"], status="lead"
    )


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize("parameter", LIST_PARAMETERS)
def test_no_value_of_any_list_parameter_is_a_server_error(member_client, workspace, listed, parameter, value):
    response = member_client.get(f"{list_path(workspace)}?{parameter}={value}")

    assert response.status_code == 200


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize("parameter", SUGGEST_PARAMETERS)
def test_no_value_of_any_suggestion_parameter_is_a_server_error(
    member_client, workspace, listed, parameter, value
):
    response = member_client.get(f"{suggest_path(workspace)}?{parameter}={value}")

    assert response.status_code == 200


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_every_list_parameter_at_once_and_repeated(member_client, workspace, listed, value):
    query = "&".join(f"{name}={value}&{name}=1&{name}={value}" for name in LIST_PARAMETERS)

    response = member_client.get(
        f"{list_path(workspace)}?{query}", headers={"HX-Request": "true", "HX-Target": "results"}
    )

    assert response.status_code == 200


@pytest.mark.parametrize("page", ["%C2%B2", "%E2%91%A0", "%D9%A3", "%EF%BC%91", "1e3", "1.0"])
def test_a_page_number_must_be_ascii_digits(member_client, workspace, listed, page):
    response = member_client.get(f"{list_path(workspace)}?page={page}")

    assert response.status_code == 200
    assert len(problems_in(response)) == 1
    assert "is not a page number; showing page 1." in problems_in(response)[0]
    assert names_in(response) == ["Annabel Leeds"]


@pytest.mark.parametrize("parameter", LIST_PARAMETERS)
def test_a_nul_character_is_dropped_with_a_message_naming_the_parameter(
    member_client, workspace, listed, parameter
):
    response = member_client.get(f"{list_path(workspace)}?{parameter}=a%00b")

    assert response.status_code == 200
    [problem] = problems_in(response)
    assert "contained a null character and was ignored" in problem
    assert names_in(response) == ["Annabel Leeds"]


def test_bytes_that_are_not_utf8_are_dropped_with_a_message(member_client, workspace, listed):
    response = member_client.get(f"{list_path(workspace)}?tag=%FF&status=%ED%A0%80")

    assert response.status_code == 200
    problems = problems_in(response)
    assert len(problems) == 2
    assert any(problem.startswith("There is no status “\ufffd") for problem in problems)
    assert any(problem.startswith("There is no tag “\ufffd") for problem in problems)


def test_the_last_of_repeated_parameters_counts(member_client, workspace, listed):
    ContactFactory(workspace=workspace, first_name="Bruno", last_name="Adams", status="active")

    response = member_client.get(f"{list_path(workspace)}?status=bogus&status=active")

    assert problems_in(response) == []
    assert names_in(response) == ["Bruno Adams"]


# --- The tag filter ignores case and spacing, as the API's does ----------------------------------


@pytest.mark.parametrize("tag", ["VIP", "vip", "vIp", "%20VIP%20"])
def test_the_tag_filter_ignores_case_and_spacing(member_client, workspace, listed, tag):
    ContactFactory(workspace=workspace, first_name="Bruno", last_name="Adams")

    response = member_client.get(f"{list_path(workspace)}?tag={tag}")

    assert problems_in(response) == []
    assert names_in(response) == ["Annabel Leeds"]


def test_a_multi_word_tag_matches_however_it_is_spaced(member_client, workspace):
    ContactFactory(workspace=workspace, first_name="Chloé", last_name="Zola", tags=["event 2026"])
    ContactFactory(workspace=workspace, first_name="Bruno", last_name="Adams")

    response = member_client.get(f"{list_path(workspace)}?tag=%20Event%20%20%202026")

    assert problems_in(response) == []
    assert names_in(response) == ["Chloé Zola"]


def test_the_links_carry_the_normalised_tag(member_client, workspace, listed):
    response = member_client.get(
        f"{list_path(workspace)}?tag=VIP", headers={"HX-Request": "true", "HX-Target": "results"}
    )

    assert response["HX-Push-Url"] == f"{list_path(workspace)}?tag=vip"


def test_page_and_api_agree_on_the_tag_filter(member_client, workspace, listed):
    api = member_client.get(f"/api/v1/workspaces/{workspace.id}/contacts/?tag=VIP")
    page = member_client.get(f"{list_path(workspace)}?tag=VIP")

    assert [item["full_name"] for item in api.json()["results"]] == ["Annabel Leeds"]
    assert names_in(page) == ["Annabel Leeds"]


# --- Fuzzing the whole query string --------------------------------------------------------------

_names = st.sampled_from([*LIST_PARAMETERS, "x", "", "page[]", "%00", "tag%FF"])
_values = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=10).map(lambda s: s * 30),
    st.binary(max_size=40).map(lambda b: "".join(f"%{byte:02X}" for byte in b)),
    st.sampled_from(list(HOSTILE.values())),
)


def _encode(value: str) -> str:
    # Pre-encoded values go as they are; others are quoted, lone surrogates as their UTF-8-style bytes.
    return (
        value
        if re.fullmatch(r"(%[0-9A-F]{2})*", value) or value in HOSTILE.values()
        else quote(value, safe="", errors="surrogatepass")
    )


def test_fuzzed_query_strings_never_break_the_list(member_client, workspace, listed):
    path = list_path(workspace)

    @hypothesis_settings(
        max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(st.lists(st.tuples(_names, _values), max_size=8), st.booleans())
    def check(pairs, htmx):
        query = "&".join(f"{name}={_encode(value)}" for name, value in pairs)
        headers = {"HX-Request": "true", "HX-Target": "results"} if htmx else {}
        response = member_client.get(f"{path}?{query}", headers=headers)
        assert response.status_code == 200, query

    check()


def test_a_nul_in_the_suggestion_text_is_ignored(member_client, workspace, listed):
    typed = member_client.get(f"{suggest_path(workspace)}?q=v%00")
    nothing = member_client.get(suggest_path(workspace))

    assert typed.status_code == 200
    assert typed.content == nothing.content
