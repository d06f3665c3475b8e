"""What every request handler reaches through ``request.app.state.profiler``: the store, the key, the settings,
the rate limiters, the API keys' checker, and a way to run the (synchronous) pipeline off the event loop."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from anyio import CapacityLimiter, to_thread

from profiler.integration.clients import KeyChecker
from profiler.integration.invitations import Invitation, get_invitation
from profiler.integration.keys import SecretKey
from profiler.store.store import Store
from profiler.web.security import RateLimiter
from profiler.web.settings import WebSettings

T = TypeVar("T")


@dataclass
class WebContext:
    store: Store
    key: SecretKey
    settings: WebSettings
    link_failures: RateLimiter = field(init=False)
    key_failures: RateLimiter = field(init=False)
    clients: KeyChecker = field(init=False)
    heavy: CapacityLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.clients = KeyChecker(self.store)
        # Finishing a session runs the whole assessment (about 100 ms of CPU): one at a time, so that a
        # burst of candidates finishing together cannot take every worker thread from those still answering.
        self.heavy = CapacityLimiter(1)
        self.link_failures = RateLimiter(self.settings.link_failures_per_minute)
        self.key_failures = RateLimiter(self.settings.key_failures_per_minute)

    async def run(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``function(*args, **kwargs)`` in a worker thread (the store's calls block), its transactions on one
        connection of the pool (:meth:`Store.one_connection`: one liveness check per request, not one each)."""
        return await to_thread.run_sync(partial(self._on_one_connection, function, *args, **kwargs))

    async def run_heavy(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """As :meth:`run`, for long computations (an assessment): one at a time, beside the worker threads."""
        async with self.heavy:
            return await self.run(function, *args, **kwargs)

    def _on_one_connection(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with self.store.one_connection():
            return function(*args, **kwargs)

    def invitation(self, invitation_id: str) -> Invitation:
        return get_invitation(self.store, invitation_id)
