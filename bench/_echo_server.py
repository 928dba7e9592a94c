"""A bare aiohttp server for the benchmarks: answers every request with a small JSON object.

Run as ``python bench/_echo_server.py PORTFILE``; it writes its port to PORTFILE.
"""

from __future__ import annotations

import sys

from aiohttp import web

BODY = b'{"ok": true, "promo": {"code": "ABC", "percent": 15}}'


async def answer(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(body=BODY, content_type="application/json")


def main() -> None:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    import asyncio
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    with open(sys.argv[1], "w") as handle:
        handle.write(str(sock.getsockname()[1]))
    web.run_app(app, sock=sock, print=None, handle_signals=True, access_log=None)
    del asyncio


if __name__ == "__main__":
    main()
