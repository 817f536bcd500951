"""What a hook checks when it reads its connection: token, ``verify`` extra, scheme; and the form."""

from __future__ import annotations

import pytest

from airflow_provider_tasks.common.connection import clean_token, is_plain_http_to_remote, verify_of
from airflow_provider_tasks.common.errors import ConfigurationError


def test_clean_token_strips_and_says_whether_it_did():
    assert clean_token("c", "abc") == ("abc", False)
    assert clean_token("c", "\t abc \r\n") == ("abc", True)


@pytest.mark.parametrize("token", [None, "", " \n "])
def test_a_missing_or_blank_token_names_the_connection(token):
    with pytest.raises(ConfigurationError, match="connection 'c'"):
        clean_token("c", token)


@pytest.mark.parametrize(
    ("token", "problem"),
    [("qZ\nXw", "a line break"), ("qZ Xw", "whitespace"), ("qZ\x1bXw", "a control character"),
     ("qZ\u0085Xw", "whitespace"), ("qZ\u2028Xw", "whitespace"), ("qZ\u20acXw", "a non-latin-1 character")],
)
def test_what_cannot_be_a_header_is_named_without_the_token(token, problem):
    with pytest.raises(
        ConfigurationError, match=f"connection 'c': the API token contains {problem} \\(character 3 of 5\\)"
    ) as caught:
        clean_token("c", token)
    assert "qZ" not in str(caught.value) and "Xw" not in str(caught.value)


def test_latin1_letters_are_fine():
    assert clean_token("c", "café") == ("café", False)


@pytest.mark.parametrize(("value", "expected"), [(True, True), (False, False), ("false", False), ("FALSE ", False),
                                                  ("0", False), ("true", True), ("", True), (None, True)])
def test_verify_flags(value, expected):
    assert verify_of("c", {"verify": value}) is expected


def test_verify_absent_is_true_and_a_path_must_exist(tmp_path):
    assert verify_of("c", {}) is True
    bundle = tmp_path / "ca.pem"
    bundle.write_text("x")
    assert verify_of("c", {"verify": str(bundle)}) == str(bundle)
    assert verify_of("c", {"extra__apify__verify": str(bundle)}, "apify") == str(bundle)  # the form's spelling
    with pytest.raises(
        ConfigurationError, match="connection 'c': extra 'verify' names a CA bundle that does not exist"
    ):
        verify_of("c", {"verify": str(tmp_path / "nope.pem")})
    with pytest.raises(ConfigurationError, match="must be true, false or a CA bundle path"):
        verify_of("c", {"verify": 3})


@pytest.mark.parametrize(
    ("url", "remote"),
    [("http://127.0.0.1:8765", False), ("http://localhost:1", False), ("http://[::1]:1", False),
     ("http://127.8.0.1", False), ("https://api.apify.com", False), ("http://api.example.com", True),
     ("http://10.0.0.5:8080", True), ("HTTP://gateway.internal", True)],
)
def test_plain_http_to_remote(url, remote):
    assert is_plain_http_to_remote(url) is remote


def test_the_connection_forms_offer_verify():
    from airflow.providers_manager import ProvidersManager

    widgets = ProvidersManager().connection_form_widgets
    for conn_type in ("apify", "lobstr"):
        assert f"extra__{conn_type}__verify" in widgets
