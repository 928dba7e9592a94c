"""The file loaders' cost: reading scenario and stub files, against libyaml's parser alone.

    python bench/bench_loader.py [--repeats 7] [--scenarios 400] [--stubs 2000]

Each figure is the median CPU time of the repeats, in one process, with the ratio to
``yaml.compose_all`` (libyaml's parser building nodes, which every loader pays
for) on the same text: the ratio is what the loader adds (line marks, values as
written, checking the models). To compare two checkouts, run it in each
(``PYTHONPATH=/path/to/other/checkout python bench/bench_loader.py``).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

SCENARIO = """\
  - name: scenario {n}
    subscriber: {{phone: +7900123{n:04d}, first_name: Ann, user_id: {n}}}
    variables: {{zip: 0123, price: 1.50, count: {n}, ok: true, when: 1:30}}
    flow:
      - webhook:
          url: "{{mock.url}}/hook/{n}"
          method: POST
          headers:
            - X-Token: abc{n}
          params:
            - phone: "{{phone}}"
            - answer: NO
            - n: {n}
          save_to: result
      - message: "code {{result.code}}"
    mock:
      strict: no
      stubs:
        - request: {{method: POST, path: /hook/{n}, query: {{n: {n}}}}}
          response: {{status: 200, json: {{code: ABC{n}, price: 1.50, items: [1, 2, 3]}}}}
    expect:
      attempts: [0]
      requests: [{{path: /hook/{n}, count: 1}}]
"""

STUB = """\
  - id: stub-{n}
    priority: {p}
    request:
      method: GET
      path: /items/{n}
      query: {{page: {n}, zip: 0123, flag: yes}}
      headers: {{X-Api-Key: k{n}}}
    response:
      status: 200
      headers: {{X-Count: "{n}"}}
      json: {{id: {n}, name: item {n}, price: 1.50, tags: [a, b], ok: true}}
"""


def median_time(action: Callable[[], object], repeats: int) -> float:
    """The median CPU time of ``action`` in this process (the work is single-threaded, and
    CPU time is less disturbed than wall time by other jobs on a shared machine)."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        action()
        times.append(time.process_time() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--scenarios", type=int, default=400)
    parser.add_argument("--stubs", type=int, default=2000)
    args = parser.parse_args()

    from mockserver.files import load_stub_file
    from scenarios.loader import load_scenario_text

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    scenarios = "scenarios:\n" + "".join(SCENARIO.format(n=n) for n in range(args.scenarios))
    stubs = "stubs:\n" + "".join(STUB.format(n=n, p=n % 9) for n in range(args.stubs))
    with tempfile.TemporaryDirectory() as folder:
        stub_path = Path(folder) / "stubs.yaml"
        stub_path.write_text(stubs, encoding="utf-8")
        rows = [
            (
                f"{args.scenarios} scenarios",
                lambda: list(yaml.compose_all(scenarios, Loader=loader)),
                lambda: load_scenario_text(scenarios, "bench.scenario.yaml"),
            ),
            (
                f"{args.stubs} stubs",
                lambda: list(yaml.compose_all(stubs, Loader=loader)),
                lambda: load_stub_file(stub_path),
            ),
        ]
        for label, parse, load in rows:
            base = median_time(parse, args.repeats)
            ours = median_time(load, args.repeats)
            shown = f"parse {base * 1e3:.1f} ms, load {ours * 1e3:.1f} ms"
            print(f"{label}: {shown} ({ours / base:.2f}x)")


if __name__ == "__main__":
    main()
