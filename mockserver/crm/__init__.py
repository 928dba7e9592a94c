"""Stateful fake CRMs mounted in the mock server: their requests land in the same journal.

``Bitrix24`` fakes the inbound-webhook REST API (``/rest/{user}/{secret}/{method}``).
"""

from __future__ import annotations

from .base import CrmFault, CrmProfile
from .bitrix24 import Bitrix24

__all__ = ["Bitrix24", "CrmFault", "CrmProfile"]
