"""Where the frozen clock starts when a scenario does not say."""

from __future__ import annotations

import datetime as _datetime
from typing import TYPE_CHECKING

__all__ = ["DEFAULT_CLOCK", "RealDatetime"]

if TYPE_CHECKING:
    from datetime import datetime as RealDatetime
else:
    # The real ``datetime`` class, even when this module is first imported under a
    # frozen clock (freezegun then puts its subclass in ``datetime.datetime``), so
    # that the pydantic models can be built at any moment.
    RealDatetime = next(
        cls
        for cls in _datetime.datetime.__mro__
        if cls.__module__ == "datetime" and cls.__name__ == "datetime"
    )

DEFAULT_CLOCK = RealDatetime(2026, 1, 1, 9, 0, tzinfo=_datetime.timezone.utc)
