"""A fake amoCRM / Kommo account behind API v4, as real client libraries use it.

- :mod:`.profile`: the account (tokens, rate limits, routing by Host or
  ``/amocrm/{subdomain}``, the block, webhook deliveries);
- :mod:`.oauth`: ``/oauth2/access_token`` and JWT access tokens;
- :mod:`.routes`: which handler answers which path, and leads/contacts/companies;
- :mod:`.listing`: ``filter[...]``, ``order``, ``query``, paging;
- :mod:`.entities`: the stored and shown shapes; :mod:`.fields`: custom fields;
- :mod:`.relations`: links and notes; :mod:`.account`: account, pipelines, fields;
- :mod:`.tasks`: tasks and ``closest_task_at``; :mod:`.unsorted`: incoming leads;
- :mod:`.webhooks`: subscriptions and the form-encoded calls to the integrator;
- :mod:`.problems`: problem+json and ``validation-errors``.

See docs/crm-amocrm.md for what each part follows in amoCRM's documentation.
"""

from __future__ import annotations

from .fields import DEFAULT_FIELDS
from .profile import AmoCRM

__all__ = ["DEFAULT_FIELDS", "AmoCRM"]
