"""Hypothesis strategies shared by the property tests."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

#: A segment of a dotted name: word characters, Cyrillic included, no dots.
segment = st.text(alphabet=st.sampled_from("abcxyz_019АБвгд"), min_size=1, max_size=6)

#: Text that could come from a subscriber: anything, controls and braces included.
any_text = st.text(max_size=40)

json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=10),
)

json_value = st.recursive(
    json_scalar,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)


@st.composite
def non_conflicting_pairs(draw: st.DrawFn) -> list[tuple[str, str]]:
    """Ordered (dotted name, value) pairs where no name is a prefix path of another."""
    names = draw(
        st.lists(st.lists(segment, min_size=1, max_size=4).map(".".join), max_size=8, unique=True)
    )
    kept: list[str] = []
    for name in names:
        parts = name.split(".")
        clashes = any(
            other.split(".")[: len(parts)] == parts
            or parts[: len(other.split("."))] == other.split(".")
            for other in kept
        )
        if not clashes:
            kept.append(name)
    return [(name, draw(st.text(max_size=8))) for name in kept]


@st.composite
def php_data(draw: st.DrawFn, depth: int = 3) -> dict[str, Any]:
    """Nested data PHP and Python agree on: string keys, string/int/bool/None leaves."""
    leaf = st.one_of(
        st.text(max_size=8),
        st.integers(min_value=-(10**9), max_value=10**9),
        st.booleans(),
        st.none(),
    )
    key = st.text(
        alphabet=st.characters(codec="utf-8", exclude_characters="\x00[]"),
        min_size=1,
        max_size=6,
    ).filter(lambda k: not k.isdigit())
    tree = st.recursive(
        leaf,
        lambda children: (
            st.dictionaries(key, children, max_size=3) | st.lists(children, max_size=3)
        ),
        max_leaves=12,
    )
    return draw(st.dictionaries(key, tree, max_size=4))


def fuzz_examples(count: int) -> int:
    """A fuzz test's number of examples: as given, or twenty times it under the ``deep``
    profile (a long bug hunt by hand; these tests fix their own counts otherwise)."""
    from hypothesis import settings

    return count * 20 if settings.get_current_profile_name() == "deep" else count
