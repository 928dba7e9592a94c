"""JSON on the server's hot path: the ``json`` module's own C scanner and encoder, without
the set-up that ``json.loads`` and ``json.dumps`` repeat on every call.

For a small body that set-up is most of the cost: ``json.loads(bytes)`` sniffs the
encoding and builds its decoder state each time (about 1.5 µs for a 30-byte body,
where the scan itself takes 0.3 µs), and ``JSONEncoder.encode`` builds a new C
encoder for every value. Both functions here give exactly what the ``json``
module gives (property-tested in ``tests/test_ms_jsoncodec.py``); anything
unusual (a BOM, UTF-16, lone surrogates, an encoder without its C part) takes
the module's own path.
"""

from __future__ import annotations

import json
from json import encoder as _encoder
from typing import Any, Final

from webhook_core.template import MISSING

__all__ = ["dumps_compact", "loads_body"]


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if value - value != 0.0:  # an infinity (1e999): JSON's text, but no answer can carry it
        raise ValueError(f"{text[:40]} is beyond a float")
    return value


# NaN and Infinity are not JSON, and a number past a float's range has no JSON to be
# written back as: a body holding one is not read as JSON (so no view, template or
# answer ever writes NaN). The module's own reading of everything else is kept.
_DECODER: Final = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite)
_WHITESPACE: Final = " \t\n\r"  # JSON's whitespace, as json.decoder.WHITESPACE matches it
_SCAN: Any = _DECODER.scan_once  # type: ignore[attr-defined]  # raw_decode calls it


def loads_body(body: bytes) -> Any:
    """``json.loads(body)``, or ``MISSING`` when the body is not JSON (or nests too deeply
    for the json module to read, or holds NaN, an infinity or a number beyond a float)."""
    try:
        text = body.decode("utf-8").lstrip(_WHITESPACE)
        # The C scanner itself, not ``raw_decode`` (a Python call around it).
        value, end = _SCAN(text, 0)
        if end == len(text) or not text[end:].strip(_WHITESPACE):
            return value
    except (ValueError, StopIteration):  # also UnicodeDecodeError: the module decides
        pass
    except RecursionError:
        return MISSING
    try:
        return json.loads(body, parse_constant=_no_constant, parse_float=_finite)
    except (ValueError, RecursionError):
        return MISSING


_SLOW: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
# No circular-reference bookkeeping (``markers=None``): what is encoded here comes
# from parsed JSON and validated stubs, which cannot hold a cycle, and the encoder
# then keeps no state between calls, so threads may share it.
_MAKE: Any = getattr(_encoder, "c_make_encoder", None)  # None without the C accelerator
_FAST: Any = (
    _MAKE(None, _SLOW.default, _encoder.encode_basestring, None, ":", ",", False, False, True)
    if _MAKE is not None
    else None
)


def dumps_compact(value: Any) -> str:
    """``json.dumps(value, ensure_ascii=False, separators=(",", ":"))`` for acyclic values,
    with one encoder kept for every call."""
    if _FAST is None or isinstance(value, str):
        return _SLOW.encode(value)
    return "".join(_FAST(value, 0))
