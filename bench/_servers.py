"""Servers for bench_mockserver.py, each answering GET /ping and POST /echo the same way.

python bench/_servers.py bare PORT
python bench/_servers.py bare-pydantic PORT   (the same, with pydantic and one model loaded)
python bench/_servers.py httpserver PORT      (pytest-httpserver, if installed)
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiohttp import web

PING = {"pong": True, "server": "bench"}


def bare_app() -> web.Application:
    """The baseline: a plain aiohttp application answering both requests."""
    from aiohttp import web

    async def ping(request: web.Request) -> web.Response:
        return web.json_response(PING)

    async def echo(request: web.Request) -> web.Response:
        data = await request.json()
        if data.get("name") != "bench":
            return web.Response(status=404)
        return web.json_response({"echo": data})

    app = web.Application()
    app.router.add_get("/ping", ping)
    app.router.add_post("/echo", echo)
    return app


def bare(port: int) -> None:
    from aiohttp import web

    web.run_app(bare_app(), host="127.0.0.1", port=port, print=None, access_log=None)


def bare_pydantic(port: int) -> None:
    """Bare aiohttp with what any pydantic-based server holds: pydantic and one model.

    The floor of the idle-memory ratio for a server that validates with pydantic.
    """
    from pydantic import BaseModel

    class Ping(BaseModel):
        pong: bool
        server: str

    Ping.model_validate(PING)
    bare(port)


def httpserver(port: int) -> None:
    import time

    from pytest_httpserver import HTTPServer
    from werkzeug import Response

    server = HTTPServer(host="127.0.0.1", port=port)
    server.expect_request("/ping", method="GET").respond_with_json(PING)

    def echo(request):  # type: ignore[no-untyped-def]
        return Response(json.dumps({"echo": request.get_json()}), content_type="application/json")

    server.expect_request(
        "/echo", method="POST", json={"name": "bench", "value": 42}
    ).respond_with_handler(echo)
    server.start()
    try:
        while True:
            time.sleep(3600)
    finally:
        server.stop()


if __name__ == "__main__":
    servers = {"bare": bare, "bare-pydantic": bare_pydantic, "httpserver": httpserver}
    servers[sys.argv[1]](int(sys.argv[2]))
