"""A fake Bitrix24 portal: inbound webhooks and application (OAuth) tokens, the classic
``crm.*`` methods with their life cycle, ``batch`` with references, outbound events.

Modules: ``portal`` (the front door: auth, envelope, rate limit), ``records`` (the entity
methods), ``extras`` (userfields, timeline comments, duplicates), ``filters`` (list
filter and order), ``batch``, ``oauth``, ``events``, ``system`` (``profile``,
``user.current``, ``server.time``), ``schema`` (fields, statuses, plans).
"""

from __future__ import annotations

from .portal import METHODS, Bitrix24
from .schema import PLANS, STATUSES, BitrixError

__all__ = ["METHODS", "PLANS", "STATUSES", "Bitrix24", "BitrixError"]
