"""Signature schemes against published vectors (twilio-python's test suite, GitHub's webhook
docs, RFC 4231/2202 for the primitives) and against hostile headers."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from ingest import signatures

# twilio/twilio-python tests/unit/test_request_validator.py
TWILIO_TOKEN = "12345"
TWILIO_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
TWILIO_PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
    ("Caller", "+14158675309"),
]


def test_twilio_compute_signature_main_vector():
    assert (
        signatures.twilio_signature(TWILIO_TOKEN, TWILIO_URL, TWILIO_PARAMS) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    )


def test_twilio_repeated_parameter_names_sort_their_values():
    params = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234")]
    assert signatures.twilio_signature(TWILIO_TOKEN, TWILIO_URL, params) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="


def test_twilio_docs_example_vector():
    params = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+14158675310"),
        ("Digits", "1234"),
        ("From", "+14158675310"),
        ("To", "+18005551212"),
    ]
    assert signatures.twilio_signature(TWILIO_TOKEN, TWILIO_URL, params) == "GvWf1cFY/Q7PnoempGyD5oXAezc="


@pytest.mark.parametrize(
    ("url", "signature"),
    [
        (TWILIO_URL, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        # signed without the port although the request URL has one
        ("https://mycompany.com:1234/myapp.php?foo=1&bar=2", "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        # signed with a non-default port, exactly as requested
        ("http://mycompany.com:1234/myapp.php?foo=1&bar=2", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
        # signed with the scheme's default port although the URL has none
        (TWILIO_URL, "kvajT1Ptam85bY51eRf/AJRuM3w="),
        ("http://mycompany.com/myapp.php?foo=1&bar=2", "0ZXoZLH/DfblKGATFgpif+LLRf4="),
    ],
)
def test_twilio_port_variants_validate(url, signature):
    assert signatures.twilio_signature_valid(TWILIO_TOKEN, url, TWILIO_PARAMS, signature)


def test_twilio_json_body_signature_with_body_sha256():
    body = b'{"property": "value", "boolean": true}'
    body_hash = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
    assert hashlib.sha256(body).hexdigest() == body_hash
    url = f"{TWILIO_URL}&bodySHA256={body_hash}"
    assert signatures.twilio_json_signature_valid(TWILIO_TOKEN, url, body, "a9nBmqA0ju/hNViExpshrM61xv4=")
    assert not signatures.twilio_json_signature_valid(
        TWILIO_TOKEN, url, body + b" ", "a9nBmqA0ju/hNViExpshrM61xv4="
    )


@pytest.mark.parametrize(
    "change",
    [
        lambda p: [*p, ("Extra", "")],  # a blank value still signs its name
        lambda p: [(k, v + " ") if k == "Digits" else (k, v) for k, v in p],  # trailing space
        lambda p: [(k.lower(), v) for k, v in p],  # names are case-sensitive
    ],
)
def test_twilio_any_parameter_change_breaks_the_signature(change):
    assert not signatures.twilio_signature_valid(
        TWILIO_TOKEN, TWILIO_URL, change(TWILIO_PARAMS), "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    )


def test_twilio_blank_value_appends_the_name():
    with_blank = signatures.twilio_signature("t", "https://x.test/", [("Body", ""), ("From", "+1")])
    expected = hmac.new(b"t", b"https://x.test/BodyFrom+1", hashlib.sha1).digest()
    assert with_blank == base64.b64encode(expected).decode()


@pytest.mark.parametrize(
    "header", [None, "", "RSOYDt4T1cUTdK1PDd93/VVr8B8", "ÿÿÿÿ", "RSOYDt4T1cUTdK1PDd93/VVr8B8=\x00"]
)
def test_twilio_bad_headers_do_not_validate(header):
    assert not signatures.twilio_signature_valid(TWILIO_TOKEN, TWILIO_URL, TWILIO_PARAMS, header)


def test_twilio_empty_token_never_validates():
    signature = signatures.twilio_signature("", TWILIO_URL, TWILIO_PARAMS)
    assert not signatures.twilio_signature_valid("", TWILIO_URL, TWILIO_PARAMS, signature)


def test_url_variants():
    assert signatures.url_variants("https://h.test/p?q=1") == (
        "https://h.test/p?q=1",
        "https://h.test:443/p?q=1",
    )
    assert signatures.url_variants("http://h.test:8080/p") == ("http://h.test:8080/p", "http://h.test/p")
    assert signatures.url_variants("http://[::1]:8080/p") == ("http://[::1]:8080/p", "http://[::1]/p")
    assert signatures.url_variants("https://h.test:notaport/p") == ("https://h.test:notaport/p",)


# GitHub's documented example of the identical X-Hub-Signature-256 scheme (Meta publishes none).
GITHUB_SECRET = "It's a Secret to Everybody"
GITHUB_BODY = b"Hello, World!"
GITHUB_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_sha256_header_github_vector():
    assert signatures.hmac_sha256_hex(GITHUB_SECRET, GITHUB_BODY) == GITHUB_SIGNATURE.removeprefix("sha256=")
    assert signatures.sha256_header_valid(GITHUB_SECRET, GITHUB_BODY, GITHUB_SIGNATURE)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        GITHUB_SIGNATURE.removeprefix("sha256="),  # no scheme
        "sha1=" + GITHUB_SIGNATURE.removeprefix("sha256="),  # the legacy header's scheme
        GITHUB_SIGNATURE[:-1] + "0",
        GITHUB_SIGNATURE + "00",
        "sha256=ÿ" * 3,
    ],
)
def test_sha256_header_rejects(header):
    assert not signatures.sha256_header_valid(GITHUB_SECRET, GITHUB_BODY, header)


def test_sha256_header_accepts_uppercase_hex_and_scheme():
    assert signatures.sha256_header_valid(GITHUB_SECRET, GITHUB_BODY, GITHUB_SIGNATURE.upper())


def test_sha256_header_covers_raw_bytes_not_reserialised_json():
    escaped = b'{"text":"\\u00e4\\u00f6\\u00e5 \\ud83d\\ude0a https:\\/\\/x"}'
    decoded = '{"text":"äöå 😊 https://x"}'.encode()
    signature = "sha256=" + signatures.hmac_sha256_hex("s", escaped)
    assert signatures.sha256_header_valid("s", escaped, signature)
    assert not signatures.sha256_header_valid("s", decoded, signature)


def test_empty_secret_never_validates():
    assert not signatures.sha256_header_valid("", b"x", "sha256=" + signatures.hmac_sha256_hex("", b"x"))


def test_hmac_primitives_rfc_vectors():
    # RFC 4231 test case 2 and RFC 2202 test case 2 ("Jefe", "what do ya want for nothing?")
    key, data = b"Jefe", b"what do ya want for nothing?"
    assert (
        hmac.new(key, data, hashlib.sha256).hexdigest()
        == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )
    assert hmac.new(key, data, hashlib.sha1).hexdigest() == "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"


@pytest.mark.parametrize(
    ("expected", "given", "result"),
    [
        ("tok", "tok", True),
        ("tok", "tok ", False),
        ("tok", None, False),
        ("", "", False),
        ("tok", "tök", False),
    ],
)
def test_tokens_equal(expected, given, result):
    assert signatures.tokens_equal(expected, given) is result
