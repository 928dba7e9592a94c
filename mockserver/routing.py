"""The stub index: which stubs could take a path, without trying them all (pure).

Every stub is filed once, by what its pattern says of the path:

- an exact path: a dict from the path to its stubs;
- a template (``/users/{id}``): a trie of path segments, ``{…}`` segments as one
  wildcard child per node; a path walks it segment by segment, and each node is
  reached once at most;
- a regex: by the literal text every match starts with (RE2 works it out:
  ``/crm/lead/\\d+`` files under ``/crm/lead/``); a path looks up each of its
  own starts whose length some regex prefix has;
- no path: one list, tried for every request.

Each list of stubs is kept in the order they are tried (lowest priority, then
newest, first). What the index gives is a superset: the stub's own pattern
decides. Adding or removing a stub costs O(log n) comparisons (a
``sortedcontainers`` list, and bisection in each bucket); finding the candidates
for a path costs O(segments + prefix lengths + candidates), whatever the number
of stubs.

:meth:`PathIndex.nearest` serves the near-miss report: stubs whose literal path
start shares the longest start with the request's path, from a list sorted by
that start (those are next to the path's place in it).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from typing import Generic, Protocol, TypeVar

from sortedcontainers import SortedKeyList

from .matching import CompiledPattern

__all__ = ["PathIndex", "Routed"]


class Routed(Protocol):
    """What the index files: a stub entry with its pattern and its place in the order."""

    @property
    def pattern(self) -> CompiledPattern: ...

    @property
    def sort_key(self) -> tuple[int, int]: ...


R = TypeVar("R", bound=Routed)


def _key(item: Routed) -> tuple[int, int]:
    return item.sort_key


def _insert(bucket: list[R], item: R) -> None:
    bisect.insort(bucket, item, key=_key)


def _discard(bucket: list[R], item: R) -> bool:
    index = bisect.bisect_left(bucket, item.sort_key, key=_key)
    if index < len(bucket) and bucket[index] is item:
        del bucket[index]
        return True
    return False


class _Node(Generic[R]):
    """A template trie node: children by literal segment, one wildcard child."""

    __slots__ = ("items", "literal", "wild")

    def __init__(self) -> None:
        self.literal: dict[str, _Node[R]] = {}
        self.wild: _Node[R] | None = None
        self.items: list[R] = []

    def empty(self) -> bool:
        return not (self.items or self.literal or self.wild)


def _segments(template: str) -> list[str | None]:
    """A template's segments, ``None`` for one that captures (``{id}``, ``v{n}.json``)."""
    return [None if "{" in part else part for part in template.split("/")]


def _common(left: str, right: str) -> int:
    """The length of the start two texts share."""
    size = min(len(left), len(right))
    if left[:size] == right[:size]:
        return size
    low, high = 0, size  # left[:low] == right[:low], and not at high
    while high - low > 1:
        middle = (low + high) // 2
        if left[:middle] == right[:middle]:
            low = middle
        else:
            high = middle
    return low


class PathIndex(Generic[R]):
    """Stub entries filed by their path, for :meth:`candidates` and :meth:`nearest`."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        """Forget every stub."""
        self._exact: dict[str, list[R]] = {}
        self._root: _Node[R] = _Node()
        self._prefixed: dict[str, list[R]] = {}
        self._lengths: dict[int, int] = {}  # regex prefix length: how many prefixes have it
        self._length_order: list[int] = []
        self._anywhere: list[R] = []
        #: How many stubs are filed other than by an exact path (none: :meth:`exact`
        #: is all there is to look up).
        self.general_count = 0
        self._by_start: SortedKeyList = SortedKeyList(key=self._start_key)

    @staticmethod
    def _start_key(item: Routed) -> tuple[str, int, int]:
        return (item.pattern.path_prefix, *item.sort_key)

    def __len__(self) -> int:
        return len(self._by_start)

    # --- changes -------------------------------------------------------------------

    def add(self, item: R) -> None:
        self._file(item)
        self._by_start.add(item)

    def add_many(self, items: list[R]) -> None:
        """:meth:`add` for each, the start-ordered list updated in one go."""
        for item in items:
            self._file(item)
        self._by_start.update(items)

    def _file(self, item: R) -> None:
        pattern = item.pattern
        route = pattern.route
        if route != "exact":
            self.general_count += 1
        if route == "exact":
            assert pattern.exact_path is not None
            _insert(self._exact.setdefault(pattern.exact_path, []), item)
        elif route == "template":
            node = self._root
            for segment in _segments(pattern.pattern.path or ""):
                if segment is None:
                    if node.wild is None:
                        node.wild = _Node()
                    node = node.wild
                else:
                    node = node.literal.setdefault(segment, _Node())
            _insert(node.items, item)
        elif route == "regex":
            prefix = pattern.path_prefix
            bucket = self._prefixed.get(prefix)
            if bucket is None:
                bucket = self._prefixed[prefix] = []
                count = self._lengths.get(len(prefix), 0)
                if not count:
                    bisect.insort(self._length_order, len(prefix))
                self._lengths[len(prefix)] = count + 1
            _insert(bucket, item)
        else:
            _insert(self._anywhere, item)

    def remove(self, item: R) -> None:
        if item not in self._by_start:
            return  # not filed (or taken out already)
        self._by_start.discard(item)
        pattern = item.pattern
        route = pattern.route
        if route != "exact":
            self.general_count -= 1
        if route == "exact":
            assert pattern.exact_path is not None
            bucket = self._exact.get(pattern.exact_path)
            if bucket is not None and _discard(bucket, item) and not bucket:
                del self._exact[pattern.exact_path]
        elif route == "template":
            self._remove_template(item)
        elif route == "regex":
            prefix = pattern.path_prefix
            bucket = self._prefixed.get(prefix)
            if bucket is not None and _discard(bucket, item) and not bucket:
                del self._prefixed[prefix]
                count = self._lengths[len(prefix)] - 1
                if count:
                    self._lengths[len(prefix)] = count
                else:
                    del self._lengths[len(prefix)]
                    self._length_order.remove(len(prefix))
        else:
            _discard(self._anywhere, item)

    def _remove_template(self, item: R) -> None:
        chain: list[tuple[_Node[R], str | None]] = []
        node: _Node[R] | None = self._root
        for segment in _segments(item.pattern.pattern.path or ""):
            assert node is not None
            chain.append((node, segment))
            node = node.wild if segment is None else node.literal.get(segment)
            if node is None:
                return
        assert node is not None
        _discard(node.items, item)
        # Prune the nodes left empty, from the leaf up: the trie holds only live paths.
        for parent, segment in reversed(chain):
            if not node.empty():
                break
            if segment is None:
                parent.wild = None
            else:
                del parent.literal[segment]
            node = parent

    # --- looking up ------------------------------------------------------------------

    def exact(self, path: str) -> list[R] | None:
        """The stubs with exactly this path, in the order they are tried."""
        return self._exact.get(path)

    def candidates(self, path: str) -> Iterator[list[R]]:
        """The lists of stubs that could take ``path``, each in the order they are tried."""
        bucket = self._exact.get(path)
        if bucket:
            yield bucket
        yield from self.general(path)

    def general(self, path: str) -> Iterator[list[R]]:
        """:meth:`candidates` without the exact path's stubs."""
        root = self._root
        if root.literal or root.wild is not None:
            segments = path.split("/")
            depth_of_leaf = len(segments)
            stack = [(root, 0)]
            while stack:
                node, depth = stack.pop()
                if depth == depth_of_leaf:
                    if node.items:
                        yield node.items
                    continue
                child = node.literal.get(segments[depth])
                if child is not None:
                    stack.append((child, depth + 1))
                if node.wild is not None and segments[depth]:
                    stack.append((node.wild, depth + 1))
        if self._length_order:
            prefixed = self._prefixed
            size = len(path)
            for length in self._length_order:
                if length > size:
                    break
                bucket = prefixed.get(path[:length])
                if bucket:
                    yield bucket
        if self._anywhere:
            yield self._anywhere

    def nearest(self, path: str) -> Iterator[R]:
        """Every stub, those whose literal path start shares the longest start with
        ``path`` first (lazily: take as many as wanted)."""
        ordered = self._by_start
        right = ordered.bisect_key_left((path,))
        left = right - 1
        size = len(ordered)
        shared: dict[int, int] = {}

        def common(index: int) -> int:
            if index not in shared:
                shared[index] = _common(ordered[index].pattern.path_prefix, path)
            return shared[index]

        while left >= 0 or right < size:
            if right >= size or (left >= 0 and common(left) >= common(right)):
                yield ordered[left]
                shared.pop(left, None)
                left -= 1
            else:
                yield ordered[right]
                shared.pop(right, None)
                right += 1
