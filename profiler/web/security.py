"""Protections shared by the web app's routers: form tokens, rate limits, security headers.

- **Form tokens (CSRF)**: every form carries ``csrf``, the server key's signature of the invitation (or of the
  recruiter's session later) under its own purpose; a POST without it, with another one, or from another
  origin (``Origin`` or ``Referer`` naming another host) is refused before anything is read. Cookies are
  ``SameSite=Lax`` and ``HttpOnly`` besides.
- **Rate limits**: a sliding window per client address and purpose, counting failures only (unknown links, bad
  API keys), so that a candidate answering quickly is never slowed and a guesser is stopped after a few tries.
- **Headers**: a Content-Security-Policy that allows scripts, styles and images from this site only (htmx is
  served from here), no framing, no referrer to other sites (links carry tokens), no caching of pages about a
  candidate.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
# The reports are self-contained HTML documents with their own inline stylesheet and no script.
REPORT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; "
              "base-uri 'none'; form-action 'none'")


class RateLimiter:
    """At most ``limit`` events per ``window`` seconds per key (a sliding window, in memory, per process).

    Parameters
    ----------
    limit : int
    window : float
        Seconds.
    clock : callable
        Monotonic seconds (tests pass a fake one).
    """

    def __init__(self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.limit, self.window, self._clock = limit, window, clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self.window:
            events.popleft()
        return events

    def blocked(self, key: str) -> float | None:
        """Seconds until ``key`` may try again (None when it may now)."""
        with self._lock:
            now = self._clock()
            events = self._recent(key, now)
            if len(events) < self.limit:
                return None
            return max(1.0, events[0] + self.window - now)

    def hit(self, key: str) -> None:
        """Count one event (a failure) for ``key``."""
        with self._lock:
            now = self._clock()
            self._recent(key, now).append(now)
            if len(self._events) > 100_000:  # bounded memory: forget keys with no recent events
                for stale in [k for k, v in self._events.items() if not v or v[-1] <= now - self.window]:
                    del self._events[stale]


def client_address(request: Request) -> str:
    """The client's address as the server sees it (behind a proxy, run uvicorn with --proxy-headers)."""
    return request.client.host if request.client is not None else "unknown"


def same_origin(request: Request) -> bool:
    """False when the request says it comes from another site (``Origin`` or ``Referer`` of another host)."""
    host = request.headers.get("host", "")
    for header in ("origin", "referer"):
        value = request.headers.get(header)
        if value:
            if value == "null":
                return False
            return urlsplit(value).netloc == host
    return True  # neither header: a non-browser client, or a browser that strips both (the token still counts)


def _is_report(path: str) -> bool:
    """A report page: the candidate's (``/c/report``) or one the API serves (``.../reports/<audience>``)."""
    return path.endswith("/report") or path.rpartition("/")[0].endswith("/reports")


class SecurityHeaders:
    """ASGI middleware adding the security headers to every response (see the module docstring)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                present = {name.lower() for name, _ in headers}
                add = {
                    b"content-security-policy": (REPORT_CSP if _is_report(path) else CSP).encode(),
                    b"x-content-type-options": b"nosniff",
                    b"referrer-policy": b"same-origin",
                    b"x-frame-options": b"DENY",
                    b"cross-origin-opener-policy": b"same-origin",
                }
                if not path.startswith("/static/"):
                    add[b"cache-control"] = b"no-store"
                headers.extend((k, v) for k, v in add.items() if k not in present)
            await send(message)

        await self.app(scope, receive, with_headers)
