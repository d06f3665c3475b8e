"""Database locations as they may be shown: passwords and other secrets of a URL never printed.

A store is opened from a path or a SQLAlchemy URL such as ``postgresql+psycopg://kim:PASSWORD@db/hiring``.
Everything profiler says about a store (messages, errors, ``repr``, the hints shown to a respondent, what
``profiler audit verify`` prints) names it through :func:`redact_url`, and text that may quote the URL or
its password (a driver's error message) goes through :func:`redact_text` first.

Examples
--------
>>> redact_url("postgresql+psycopg://kim:s3cret@db.example.org/hiring?sslmode=require")
'postgresql+psycopg://kim:***@db.example.org/hiring?sslmode=require'
>>> redact_url("postgresql://kim@db/hiring?password=s3cret")
'postgresql://kim@db/hiring?password=***'
>>> redact_url("hiring.sqlite")
'hiring.sqlite'
>>> redact_text("could not connect as kim:s3cret", "postgresql://kim:s3cret@db/hiring")
'could not connect as kim:***'
"""

from __future__ import annotations

import os
import re
from urllib.parse import quote, unquote

HIDDEN = "***"
# A secret shorter than this is hidden inside its URL only: replacing every "ab" in a message would garble it.
MIN_REPLACED = 4
# Query parameters of a URL that carry a secret (libpq's password, sslpassword; tokens and keys of drivers).
_SECRET_PARAMETER = re.compile(r"pass|pwd|secret|token|credential|api_?key|access_?key", re.IGNORECASE)
# user:password@ after "://": up to the last "@" (a password may hold "@" or "/" unencoded; hiding a host too is
# better than showing part of a password).
_USERINFO = re.compile(r"(?P<scheme>://)(?P<user>[^:@/\s]*):(?P<password>\S*)@")
_QUERY_PAIR = re.compile(r"(?P<name>[^&=?#]+)=(?P<value>[^&#]*)")


def redact_url(location: str | os.PathLike[str] | None) -> str:
    """``location`` as it may be shown: the password of a URL and secret query parameters replaced by ``***``.

    Works on text that is not a valid URL too (a typo must not print the password either); a path is
    returned unchanged.
    """
    if location is None:
        return ":memory:"
    text = os.fspath(location)
    if "://" not in text:
        return text
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{HIDDEN}@", text, count=1)
    if "?" in text:
        base, _, query = text.partition("?")
        query = _QUERY_PAIR.sub(
            lambda m: f"{m['name']}={HIDDEN}" if _SECRET_PARAMETER.search(unquote(m["name"])) else m[0], query)
        text = f"{base}?{query}"
    return text


def url_secrets(location: str | os.PathLike[str] | None) -> list[str]:
    """The secrets a location holds (the password, secret query values), as written and decoded."""
    if location is None:
        return []
    text = os.fspath(location)
    if "://" not in text:
        return []
    found = []
    try:
        from sqlalchemy.engine import make_url

        parsed = make_url(text).password
    except Exception:  # noqa: BLE001 - any text at all: fall back on the pattern
        parsed = None
    if parsed:
        found.append(str(parsed))
    match = _USERINFO.search(text)
    if match and match["password"]:
        found.append(match["password"])
    if "?" in text:
        for pair in _QUERY_PAIR.finditer(text.partition("?")[2]):
            if _SECRET_PARAMETER.search(unquote(pair["name"])) and pair["value"]:
                found.append(pair["value"])
    decoded = [unquote(s) for s in found] + [quote(unquote(s), safe="") for s in found]
    # Longest first, so that a secret containing another is replaced whole.
    return sorted({s for s in found + decoded if s}, key=len, reverse=True)


def redact_text(text: str, location: str | os.PathLike[str] | None) -> str:
    """``text`` with the location's URL and every secret it holds replaced (for messages quoting a driver)."""
    if location is None:
        return text
    raw = os.fspath(location)
    if "://" not in raw:
        return text
    text = text.replace(raw, redact_url(raw))
    for secret in url_secrets(raw):
        if len(secret) >= MIN_REPLACED:
            text = text.replace(secret, HIDDEN)
    return text


__all__ = ["HIDDEN", "redact_text", "redact_url", "url_secrets"]
