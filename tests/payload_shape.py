"""Compare an event's ``data`` with the example seed 002 gives for that event type."""

from __future__ import annotations

import re
from typing import Any

# Seed 002 writes every timestamp as 2025-01-20T14:30:00.000000Z and every date as 2025-02-20.
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _json_type(value: Any) -> str:
    # bool before int: True is an int to Python but a different JSON type.
    for name, kind in (("null", type(None)), ("boolean", bool), ("number", (int, float)),
                       ("string", str), ("array", list), ("object", dict)):
        if isinstance(value, kind):
            return name
    raise AssertionError(f"{value!r} is not a JSON value")


def assert_same_shape(actual: Any, example: Any, path: str = "data") -> None:
    """Same keys (no more, no fewer) and the same JSON type at every position.

    Where the example shows ``null`` the seed only says the field may be empty, so the actual
    value may be null or any scalar. Strings that are timestamps or dates in the example must
    be in the same format. Lists are compared element by element against the example's first.
    """
    expected_type, actual_type = _json_type(example), _json_type(actual)
    if expected_type == "null":
        assert actual_type in ("null", "string", "number", "boolean"), (
            f"{path}: the seed shows null, got {actual_type} {actual!r}")
        return
    assert actual_type == expected_type, (
        f"{path}: the seed has {expected_type} {example!r}, got {actual_type} {actual!r}")
    if expected_type == "object":
        missing, extra = set(example) - set(actual), set(actual) - set(example)
        assert not missing and not extra, (
            f"{path}: missing keys {sorted(missing)}, keys not in the seed {sorted(extra)}")
        for key in example:
            assert_same_shape(actual[key], example[key], f"{path}.{key}")
    elif expected_type == "array" and example:
        for index, item in enumerate(actual):
            assert_same_shape(item, example[0], f"{path}[{index}]")
    elif expected_type == "string":
        for pattern in (TIMESTAMP, DATE):
            if pattern.match(example):
                assert pattern.match(actual), f"{path}: {actual!r} is not like {example!r}"
