"""Stateful fake CRMs mounted in the mock server: their requests land in the same journal.

``Bitrix24`` fakes the inbound-webhook REST API (``/rest/{user}/{secret}/{method}``);
``AmoCRM`` fakes amoCRM / Kommo API v4 (``/api/v4/...``, Bearer tokens).
"""

from __future__ import annotations

from .amocrm import AmoCRM
from .base import CrmFault, CrmProfile
from .bitrix24 import Bitrix24

__all__ = ["AmoCRM", "Bitrix24", "CrmFault", "CrmProfile"]
