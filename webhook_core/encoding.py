"""Query strings and form bodies exactly as PHP's ``http_build_query`` writes them (C4, C5).

``encode_query({"user": {"name": "Anna Lee"}, "tags": ["x"]})`` gives
``user%5Bname%5D=Anna+Lee&tags%5B0%5D=x``: brackets percent-encoded, lists
with explicit indices, spaces as ``+`` (RFC 1738), ``~`` encoded, ``null``
and empty arrays left out, ``true``/``false`` as ``1``/``0``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote_plus

from .errors import LimitExceeded

__all__ = ["encode_query", "php_urlencode"]


def php_urlencode(text: str) -> str:
    """PHP ``urlencode``: letters, digits and ``-_.`` kept, space as ``+``, the rest ``%XX``."""
    return quote_plus(text, safe="").replace("~", "%7E")


def _scalar(value: Any) -> str:
    if value is True:
        return "1"
    if value is False:
        return "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return php_urlencode(_php_float(value))
    return php_urlencode(value if isinstance(value, str) else str(value))


def _php_float(value: float) -> str:
    """A float as ``http_build_query`` prints it: PHP's ``precision`` (14 digits), ``%G`` style."""
    if math.isnan(value):
        return "NAN"
    if math.isinf(value):
        return "INF" if value > 0 else "-INF"
    text = f"{value:.14G}"
    if "E" in text:
        mantissa, exponent = text.split("E")
        if "." not in mantissa:
            mantissa += ".0"
        power = int(exponent)
        text = f"{mantissa}E{'-' if power < 0 else '+'}{abs(power)}"
    return text


def _items(data: Mapping[str, Any] | Sequence[Any]) -> Any:
    return data.items() if isinstance(data, Mapping) else enumerate(data)


def _is_array(value: Any) -> bool:
    return isinstance(value, Mapping) or (
        isinstance(value, Sequence) and not isinstance(value, str | bytes)
    )


def _walk(data: Mapping[str, Any] | Sequence[Any], prefix: str, out: list[str]) -> None:
    for key, value in _items(data):
        name = f"{prefix}%5B{php_urlencode(str(key))}%5D" if prefix else php_urlencode(str(key))
        if value is None:
            continue
        if _is_array(value):
            _walk(value, name, out)
        else:
            out.append(f"{name}={_scalar(value)}")


def _walk_bounded(
    data: Mapping[str, Any] | Sequence[Any], prefix: str, out: list[str], left: list[int]
) -> None:
    """:func:`_walk` that counts: ``left`` is the characters left and the limit."""
    for key, value in _items(data):
        name = f"{prefix}%5B{php_urlencode(str(key))}%5D" if prefix else php_urlencode(str(key))
        if value is None:
            continue
        if _is_array(value):
            _walk_bounded(value, name, out, left)
        else:
            pair = f"{name}={_scalar(value)}"
            left[0] -= len(pair) + 1
            if left[0] < -1:
                raise LimitExceeded(field="query", value=left[1] - left[0] - 1, limit=left[1])
            out.append(pair)


def encode_query(data: Mapping[str, Any] | Sequence[Any], *, limit: int | None = None) -> str:
    """Encode nested data as ``http_build_query($data)`` does (``&`` between pairs).

    With ``limit``, :class:`LimitExceeded` (its ``value`` the characters written so far)
    stops the encoding once the text would be longer.
    """
    out: list[str] = []
    if limit is None:
        _walk(data, "", out)
    else:
        _walk_bounded(data, "", out, [limit, limit])
    return "&".join(out)
