"""The portal's XML answers: a method called as ``crm.lead.get.xml`` answers what it would
in JSON, written as XML (``settings/how-to-call-rest-api/general-principles.md``: "add the
desired format to the method name: ``.json`` or ``.xml``"; the ``batch.xml`` example there,
and ``settings/cloud-and-on-premise/on-premise/custom-methods.md``, whose error answer is
``Content-Type: text/xml; charset=utf-8`` with ``<response><error>…``).

Each key is an element holding its value; a list's items (and a numeric key) are ``<item>``
elements, as PHP's integer array keys are written (**[inference]**: the pages show only
named keys). ``null`` and ``false`` are empty, ``true`` is ``1`` (PHP's text of them). A key
that is no XML name (a batch command called ``a b``) is ``<item key="a b">``, and a
character XML 1.0 cannot hold (a control character, half a surrogate pair) is U+FFFD, so
the answer is always well-formed (**decision**: the pages are silent on both).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Final

__all__ = ["to_xml", "wants_xml"]

_HEAD: Final = '<?xml version="1.0" ?>\n<response>'
_NUMBER_KEY: Final = re.compile(r"-?[1-9][0-9]*|0")
_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_NOT_XML: Final = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ESCAPES: Final = str.maketrans(
    # A carriage return as a reference: written raw, an XML reader reads it (and CR LF)
    # as a line feed, so "a\r\nb" came back as "a\nb".
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#039;", "\r": "&#13;"}
)


def wants_xml(path: str) -> bool:
    """True for a method called with the ``.xml`` suffix (``/rest/1/s/crm.lead.get.xml``)."""
    return path.rstrip("/").rsplit("/", 1)[-1].lower().endswith(".xml")


def _text(value: Any) -> str:
    if value is None or value is False:
        return ""
    if value is True:
        return "1"
    return _NOT_XML.sub("\ufffd", str(value)).translate(_ESCAPES)


def _tag(key: Any) -> tuple[str, str]:
    """The element's name and its opening tag's inside."""
    name = str(key)
    if _NUMBER_KEY.fullmatch(name):
        return "item", "item"
    if _NAME.fullmatch(name) and not name.lower().startswith("xml"):
        return name, name
    return "item", f'item key="{_text(name)}"'


def _children(value: Any) -> Iterator[tuple[Any, Any]] | None:
    if isinstance(value, dict) and value:
        return iter(value.items())
    if isinstance(value, list) and value:
        return enumerate(value)
    return None


def to_xml(data: dict[str, Any]) -> str:
    """``data`` (a JSON answer) as the portal's XML document.

    Written without recursion: a structure of any depth costs its size, never the stack.
    """
    out = [_HEAD]
    levels: list[Iterator[tuple[Any, Any]]] = [iter(data.items())]
    closers: list[str] = []
    while levels:
        try:
            key, value = next(levels[-1])
        except StopIteration:
            levels.pop()
            if closers:
                out.append(closers.pop())
            continue
        name, opening = _tag(key)
        inner = _children(value)
        if inner is None:
            empty = isinstance(value, (dict, list))
            out.append(f"<{opening}></{name}>" if empty else f"<{opening}>{_text(value)}</{name}>")
        else:
            out.append(f"<{opening}>")
            levels.append(inner)
            closers.append(f"</{name}>")
    out.append("</response>")
    return "".join(out)
