"""Render + nest + encode of 10, 1 000 and 100 000 parameters: the cost per parameter stays flat.

    python bench/bench_encoding.py

Builds an action with N parameters (a third nested two deep, a third list
items, a third plain), renders them with variables, nests and encodes them as
a form body and as JSON, through ``webhook_core.build_request``. Prints the
time per parameter for each N and its ratio to N = 10's: a linear cost keeps
the ratio near 1.
"""

from __future__ import annotations

import time

from webhook_core import WebhookAction, build_request

VARIABLES = {"first_name": "Анна", "n": 15, "obj": {"a": [1, 2]}}


def action(size: int, method: str) -> WebhookAction:
    params = []
    for index in range(size):
        kind = index % 3
        if kind == 0:
            params.append((f"user{index}.name", "{first_name} #" + str(index)))
        elif kind == 1:
            params.append((f"items.{index // 3}", "{n}"))
        else:
            params.append((f"plain{index}", "{obj}"))
    return WebhookAction("http://127.0.0.1:9/hook", method, params=params)


def per_parameter(size: int, method: str) -> float:
    built = action(size, method)
    build_request(built, VARIABLES)  # warm the template cache
    repeats = max(1, 20_000 // size)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeats):
            build_request(built, VARIABLES)
        best = min(best, (time.perf_counter() - start) / repeats)
    return best / size


def main() -> None:
    print(f"{'method':<10}{'parameters':>12}{'µs/param':>12}{'vs 10':>8}")
    for method in ("POST", "JSON POST", "GET"):
        base = None
        # httpx refuses URLs over 64 KiB, so GET stops at 1 000 parameters.
        for size in (10, 1_000) if method == "GET" else (10, 1_000, 100_000):
            cost = per_parameter(size, method)
            base = base or cost
            print(f"{method:<10}{size:>12}{cost * 1e6:>12.2f}{cost / base:>7.2f}x")


if __name__ == "__main__":
    main()
