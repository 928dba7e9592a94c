"""Request bodies under a content coding, decoded by the mock server itself in steps.

aiohttp decodes ``Content-Encoding`` in its parser, and after a body over the size
limit (a decompression bomb: a 10 MB gzip of 10 GB) its lingering close reads the
rest, decoding it too, in a loop that did not let the event loop answer anyone else
for seconds at a time (a health check waited 5 s) while it spent seconds of CPU on
bytes no one would keep. It also refused a coding it has no library for (``br``
without Brotli, ``zstd`` without ``backports.zstd``) as a malformed request, so
the journal lost its method, path and headers.

So the parser is built not to decode (``mockserver/pipelining.py``) and the body
reader decodes with aiohttp's own decoders (the same deflate sniffing, the same
bound on gzip members), at most :data:`STEP` bytes at a time, stopping at the body
limit; the rest of the body is then read as it came, which costs nothing. A coding
whose library is missing is left as sent and refused with 415
(:func:`coding_problem`), journaled as any request.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aiohttp import compression_utils

__all__ = ["DECODED", "STEP", "Decoder", "coding_problem", "decoder_for"]

STEP = 1 << 18  # the most a decoder gives in one go; the reader yields between steps
DECODED = frozenset({"gzip", "x-gzip", "deflate", "br", "zstd"})
_LIBRARY = {"br": "Brotli", "zstd": "backports.zstd"}


def _available(coding: str) -> bool:
    if coding == "br":
        return bool(compression_utils.HAS_BROTLI)
    if coding == "zstd":
        return bool(compression_utils.HAS_ZSTD)
    return True


def _codings(values: list[str]) -> list[str]:
    codings = [token.strip().lower() for value in values for token in value.split(",")]
    return [coding for coding in codings if coding]


def coding_problem(values: list[str]) -> str | None:
    """Why a body under these ``Content-Encoding`` values cannot be read as it was
    meant: a chain of codings (``gzip, gzip``, or the header twice), or one the server
    has no decoder for. ``None`` when it reads as meant (an unknown coding such as
    ``utf-8`` is kept as sent)."""
    codings = _codings(values)
    if len(codings) >= 2 and DECODED.intersection(codings):
        return (
            f"Content-Encoding {', '.join(codings)!r}: the mock server decodes a body with "
            "one content coding (gzip, deflate, br or zstd), not a chain of them"
        )
    if len(codings) == 1 and codings[0] in _LIBRARY and not _available(codings[0]):
        return (
            f"Content-Encoding {codings[0]!r}: the mock server cannot decode it here "
            f"(install {_LIBRARY[codings[0]]}); the body is journaled as sent"
        )
    return None


class Decoder:
    """One body's decoder: :meth:`feed` gives its decoded bytes in steps."""

    __slots__ = ("_inner", "_started", "coding")

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self._started = False
        self._inner: Any = self._make(coding, raw_deflate=False)

    @staticmethod
    def _make(coding: str, *, raw_deflate: bool) -> Any:
        if coding == "br":
            return compression_utils.BrotliDecompressor()
        if coding == "zstd":
            return compression_utils.ZSTDDecompressor()
        encoding = "gzip" if coding == "x-gzip" else coding
        return compression_utils.ZLibDecompressor(
            encoding=encoding, suppress_deflate_header=raw_deflate
        )

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The decoded bytes of ``data``, at most :data:`STEP` at a time; ``ValueError``
        when the bytes are not of the coding."""
        if not self._started and data:
            self._started = True
            # RFC 1950's header says deflate in its low bits; senders often send raw
            # deflate (RFC 1951) instead, which aiohttp reads too.
            if self.coding == "deflate" and data[0] & 0xF != 8:
                self._inner = self._make("deflate", raw_deflate=True)
        inner = self._inner
        try:
            piece = inner.decompress_sync(data, max_length=STEP)
            while True:
                if piece:
                    yield piece
                if not inner.data_available:
                    return
                piece = inner.decompress_sync(b"", max_length=STEP)
        except ValueError:
            raise
        except Exception as exc:  # zlib.error, brotli.error, ZstdError: not that coding
            raise ValueError(str(exc)) from None

    def finish(self) -> None:
        """The body ended: ``ValueError`` when a deflate stream was cut short."""
        if self._started and self.coding == "deflate" and not self._inner.eof:
            raise ValueError("the deflate stream ends before its end")


def decoder_for(values: list[str]) -> Decoder | None:
    """The decoder for a body sent with these ``Content-Encoding`` values, or ``None``
    when it is kept as sent (no coding, an unknown one, a chain, or one whose library
    is missing: :func:`coding_problem` says which)."""
    if len(values) != 1 or "," in values[0]:
        return None
    coding = values[0].strip().lower()
    if coding not in DECODED or not _available(coding):
        return None
    return Decoder(coding)
