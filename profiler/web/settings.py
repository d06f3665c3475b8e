"""What a deployment sets: who assesses (shown to candidates), cookies, callbacks, rate limits, webhooks."""

from __future__ import annotations

from dataclasses import dataclass, field

from profiler.pipeline.invitations import Organisation


@dataclass(frozen=True)
class WebSettings:
    """Settings of the web app.

    Attributes
    ----------
    organisation : Organisation
        Who assesses, the contact for questions and data requests, and how long cases are kept: what the
        consent and end pages say.
    secure_cookies : bool
        Mark cookies ``Secure`` (sent over https only). Set it whenever the app is served over https.
    allow_http_callbacks : bool
        Accept plain-http webhook addresses other than localhost (test set-ups only).
    link_failures_per_minute, key_failures_per_minute : int
        Failed invitation links and failed API keys allowed per client address and minute, then 429.
    public_url : str or None
        The app's address as vendors and candidates reach it (``https://assess.example.org``), for the links
        the API returns; default: the address of the request.
    webhook_interval : float or None
        Seconds between two passes of the webhook sender inside the server (None, the default of the library:
        do not send from the server; run ``profiler api webhooks send`` instead). ``profiler serve`` uses 5.
    threads : int
        Worker threads that run the store's (blocking) calls and the synchronous pages; requests beyond that
        wait their turn in the event loop. Few are best: Python runs one thread at a time, and every extra
        thread waiting for a lock (the database's, the interpreter's) adds its wait to the others (measured
        in docs/benchmarks.md, "The web app under load": on PostgreSQL 4 threads held the audit log's lock
        shorter than 8, and the slowest answers waited less for it). At most the store's connection pool (15).
    """

    organisation: Organisation = field(default_factory=Organisation)
    secure_cookies: bool = False
    allow_http_callbacks: bool = False
    link_failures_per_minute: int = 10
    key_failures_per_minute: int = 10
    public_url: str | None = None
    webhook_interval: float | None = None
    threads: int = 4
