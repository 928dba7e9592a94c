"""A PHP process kept open for oracle tests: one JSON request per line, one answer per line."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

SCRIPT = r"""
function dot_set(array &$data, string $name, $value): void {
    $keys = explode('.', $name);
    $last = array_pop($keys);
    $node = &$data;
    foreach ($keys as $key) {
        if (!isset($node[$key]) || !is_array($node[$key])) {
            $node[$key] = [];
        }
        $node = &$node[$key];
    }
    $node[$last] = $value;
}
while (($line = fgets(STDIN)) !== false) {
    $request = json_decode($line, true);
    if ($request['op'] === 'query') {
        $out = http_build_query($request['data']);
    } elseif ($request['op'] === 'parse') {
        parse_str($request['text'], $parsed);
        $out = json_encode($parsed, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
    } else {
        $data = [];
        foreach ($request['pairs'] as [$name, $value]) {
            dot_set($data, $name, $value);
        }
        $out = json_encode($data, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
    }
    echo json_encode($out), "\n";
    flush();
}
"""


class Php:
    """Ask a running ``php`` for ``http_build_query`` and dot-set + ``json_encode``."""

    def __init__(self) -> None:
        executable = shutil.which("php")
        if executable is None:
            raise RuntimeError("php is not on PATH")
        self._process = subprocess.Popen(
            [executable, "-d", "display_errors=stderr", "-r", SCRIPT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def _ask(self, request: dict[str, Any]) -> str:
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        answer: str = json.loads(self._process.stdout.readline())
        return answer

    def http_build_query(self, data: Any) -> str:
        return self._ask({"op": "query", "data": data})

    def parse_str_json(self, text: str) -> str:
        return self._ask({"op": "parse", "text": text})

    def dot_set_json(self, pairs: list[tuple[str, str]]) -> str:
        return self._ask({"op": "nest", "pairs": pairs})

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait(timeout=10)
