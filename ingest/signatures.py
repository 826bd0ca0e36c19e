"""Webhook authenticity checks, one per provider scheme, all compared in constant time.

Every check works on what the provider actually signed: Meta signs the raw body bytes (its
escaped-unicode JSON, so the body must never be re-serialised before checking), Twilio signs
the public URL plus the decoded form parameters, RingCentral and the booking form share a
token. A missing secret never verifies anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit, urlunsplit

_DEFAULT_PORTS = {"https": 443, "http": 80}


def _ascii(value: str) -> bytes:
    # compare_digest refuses non-ASCII str; header values can hold anything.
    return value.encode("utf-8", "backslashreplace")


def tokens_equal(expected: str, given: str | None) -> bool:
    """Constant-time equality of a configured token and a received one; empty never matches."""
    if not expected or given is None:
        return False
    return hmac.compare_digest(_ascii(expected), _ascii(given))


def hmac_sha256_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def sha256_header_valid(secret: str, body: bytes, header: str | None) -> bool:
    """`sha256=<hex HMAC-SHA256(secret, body)>`, the scheme of Meta's X-Hub-Signature-256
    (and GitHub's), also offered to the booking form."""
    if not secret or not header:
        return False
    scheme, sep, digest = header.strip().partition("=")
    if not sep or scheme.strip().lower() != "sha256":
        return False
    return hmac.compare_digest(_ascii(hmac_sha256_hex(secret, body)), _ascii(digest.strip().lower()))


def twilio_signature(token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """Base64 HMAC-SHA1 of the URL followed by every parameter as name+value, sorted by name
    and then value; a name repeated with the same value counts once, as Twilio's SDKs do."""
    signed = url + "".join(name + value for name, value in sorted(set(params)))
    digest = hmac.new(token.encode(), signed.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def url_variants(url: str) -> tuple[str, ...]:
    """The URL as given, without its port, and with the scheme's default port: Twilio may sign
    any of them depending on how the webhook URL was written in its console."""
    variants = [url]
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return tuple(variants)
    host = parts.netloc.rpartition("@")[2]
    userinfo = parts.netloc[: len(parts.netloc) - len(host)]
    if port is not None:
        bare = host[: host.rfind(":")]
        variants.append(urlunsplit(parts._replace(netloc=userinfo + bare)))
    elif parts.scheme in _DEFAULT_PORTS:
        with_port = f"{userinfo}{host}:{_DEFAULT_PORTS[parts.scheme]}"
        variants.append(urlunsplit(parts._replace(netloc=with_port)))
    return tuple(dict.fromkeys(variants))


def twilio_signature_valid(
    token: str, url: str, params: Iterable[tuple[str, str]], header: str | None
) -> bool:
    """X-Twilio-Signature for a form-encoded request to `url` (the public URL, query included)."""
    if not token or not header:
        return False
    pairs = list(params)
    given = _ascii(header.strip())
    matches = [
        hmac.compare_digest(_ascii(twilio_signature(token, u, pairs)), given) for u in url_variants(url)
    ]
    return any(matches)


def twilio_json_signature_valid(token: str, url: str, body: bytes, header: str | None) -> bool:
    """Twilio's scheme for JSON bodies: the URL carries bodySHA256=<hex sha256(body)> in its
    query and the signature covers the URL alone."""
    query = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    claimed = query.get("bodySHA256", "")
    if not claimed:
        return False
    body_ok = hmac.compare_digest(_ascii(hashlib.sha256(body).hexdigest()), _ascii(claimed.lower()))
    return twilio_signature_valid(token, url, (), header) and body_ok
