"""What an answer becomes when it is saved (rules D2, D3). Pure: bytes in, value out."""

from __future__ import annotations

import codecs
import json
import math
import re
import sys
from typing import Any, Final

__all__ = ["DEFAULT_MAX_BODY", "MAX_DEPTH", "charset_of", "decode_body", "parse_body"]

#: D3: at most this many bytes of an answer are read.
DEFAULT_MAX_BODY: Final = 1024 * 1024
#: D2: a JSON answer nested deeper than this is saved as its text, as PHP's
#: ``json_decode`` (default depth 512) refuses it. Deeper structures can be read, but
#: writing them again (a message, a JSON POST) recursed past Python's limit.
MAX_DEPTH: Final = 512


def charset_of(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type, if it names a codec Python knows."""
    if not content_type:
        return None
    for parameter in content_type.split(";")[1:]:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "charset":
            name = value.strip().strip("\"'")
            try:
                info = codecs.lookup(name)
            except LookupError:
                return None
            # base64, rot13, zlib… are codecs too, of bytes to bytes: not a charset.
            return info.name if getattr(info, "_is_text_encoding", True) else None
    return None


def decode_body(body: bytes, content_type: str | None) -> str:
    """D3: decode by the Content-Type's charset, else UTF-8; invalid bytes are replaced."""
    charset = charset_of(content_type) or "utf-8"
    if charset == "utf-8" and body.startswith(codecs.BOM_UTF8):
        body = body[len(codecs.BOM_UTF8) :]
    try:
        return body.decode(charset, errors="replace")
    except (UnicodeError, LookupError):  # idna and punycode take no "replace": read as UTF-8
        return body.decode("utf-8", errors="replace")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


#: An integer past this is out of a double's range, as ``1e999`` is: PHP's
#: ``json_decode`` reads both as INF, which no JSON carries on.
_MAX_INTEGER: Final = int(sys.float_info.max)
_LONG_DIGITS: Final = re.compile(r"[0-9]{309}")


def _integer(digits: str) -> int:
    # More digits than a double's 309 can only be out of its range; past 4 300 digits
    # int() refuses them anyway (CPython's limit on converting text to int).
    if len(digits.lstrip("-")) > 309 or abs(number := int(digits)) > _MAX_INTEGER:
        raise ValueError(f"{digits[:40]}… is out of a double's range")
    return number


def _finite(digits: str) -> float:
    number = float(digits)
    if not math.isfinite(number):  # 1e999: Infinity once read, and sent on as that
        raise ValueError(f"{digits} is out of a double's range")
    return number


#: A ``\\uD800``-``\\uDFFF`` escape: JSON reads an unpaired one (half an emoji that
#: JavaScript cut) into text that has no UTF-8 form, and every later request that
#: sends it would fail to encode.
_SURROGATE_ESCAPE: Final = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def _without_surrogates(value: Any) -> Any:
    """``value`` with each unpaired surrogate (in keys too) read as U+FFFD, as an invalid
    byte is (rule D3)."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_without_surrogates(key): _without_surrogates(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_surrogates(item) for item in value]
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` nests more than ``limit`` objects and lists (without recursing)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        for child in node.values() if type(node) is dict else node:
            if type(child) is dict or type(child) is list:
                stack.append((child, depth + 1))
    return False


def parse_body(body: bytes, content_type: str | None, *, truncated: bool = False) -> Any:
    """D2: a JSON object or array becomes a structure, whatever the Content-Type; else text.

    JSON scalars (``42``, ``"x"``, ``true``) are kept as the text that came. A
    truncated body is never parsed: it is the text of the bytes that were read.
    """
    text = decode_body(body, content_type)
    if truncated:
        return text
    head = text.lstrip()[:1]
    if head in ("{", "["):
        try:
            # Only a text with a run of 309 digits can hold such an integer: the others
            # are read without a call per integer.
            integer = _integer if _LONG_DIGITS.search(text) else None
            value = json.loads(
                text, parse_constant=_reject_constant, parse_float=_finite, parse_int=integer
            )
        except (ValueError, RecursionError):  # not JSON, or nested too deeply to read
            return text
        if isinstance(value, dict | list):
            if text.count("[") + text.count("{") > MAX_DEPTH and _deeper_than(value, MAX_DEPTH):
                return text
            # Paired escapes read as one character; only a text with some is walked.
            if not _SURROGATE_ESCAPE.search(text):
                return value
            try:
                return _without_surrogates(value)
            except RecursionError:  # as deep as JSON can be read: kept as its text
                return _SURROGATE.sub("\ufffd", text)
    return text
