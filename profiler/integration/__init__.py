"""What connects profiler to the outside: invitations and consent for candidates, API clients, idempotency keys
and webhooks for vendors.

- :mod:`.keys`: the server's secret key and what it signs (links, form tokens, cookies, webhook secrets);
- :mod:`.invitations`: signed, single-use, expiring invitation links;
- :mod:`.consent`: the consent notice and the candidate's recorded answer;
- :mod:`.clients`: vendors' API clients with hashed keys and scopes;
- :mod:`.idempotency`: replaying the response of a retried POST;
- :mod:`.webhooks`: signed webhook deliveries, retried with backoff, every attempt logged;
- :mod:`.staff`: organisations, staff accounts (argon2-hashed passwords, roles, lockout) and their sessions;
- :mod:`.oidc`, :mod:`.oidc_provider`, :mod:`.idtoken`: staff signing in through their organisation's OpenID
  Connect provider (its configuration and sealed client secret, the provider's endpoints, ID token checks).

The use cases that combine these with sessions, candidates and assessments are in :mod:`profiler.pipeline`.
"""

from profiler.integration.errors import IntegrationError, InvitationError
from profiler.integration.keys import SecretKey

__all__ = ["IntegrationError", "InvitationError", "SecretKey"]
