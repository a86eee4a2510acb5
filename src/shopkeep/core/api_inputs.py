"""Bounded numbers in every API input, by construction.

Pydantic's lax mode reads ``"1_000"`` and ``true`` as integers and ``"1_000"`` or Arabic-Indic
digits as decimals, and puts no bound on an integer, so a 2**70 id reached the database and
answered 500 (SQLite cannot bind it, PostgreSQL's bigint overflows). The forms refuse all of
these. ``bound_api_inputs(api)`` runs once, after every router is added: it walks each
operation's input models (path, query and body, nested schemas included) and rewrites every
``int`` to ``Int64`` and every ``Decimal`` to ``PlainDecimal``, so a new endpoint or field is
bounded without anyone remembering to. ``tests/test_api_integer_bounds.py`` sends 2**70 to
every integer field of the OpenAPI schema.
"""

from __future__ import annotations

import re
import types
import typing
from decimal import Decimal
from typing import Annotated, Any, Union, get_args, get_origin

from annotated_types import Interval
from pydantic import BaseModel, BeforeValidator

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

_ASCII_INT = re.compile(r"[+-]?[0-9]+")
_ASCII_DECIMAL = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def _plain_int(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be an integer, not true or false")
    if isinstance(value, str) and not _ASCII_INT.fullmatch(value.strip()):
        raise ValueError("must be an integer written with the digits 0-9")
    return value


def _plain_decimal(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a number, not true or false")
    if isinstance(value, str) and not _ASCII_DECIMAL.fullmatch(value.strip()):
        raise ValueError('must be a decimal number written with the digits 0-9, such as "29.99"')
    return value


# A signed 64-bit integer (what both databases store) written plainly.
Int64 = Annotated[int, BeforeValidator(_plain_int), Interval(ge=INT64_MIN, le=INT64_MAX)]
# A decimal as the forms accept it: ASCII digits with an optional point, no "_" or exponent.
PlainDecimal = Annotated[Decimal, BeforeValidator(_plain_decimal)]

_UNION_TYPES = (Union, types.UnionType)


def _rewrite(annotation: Any, done: dict[type, bool]) -> tuple[Any, bool]:
    """``annotation`` with int and Decimal replaced (models are rewritten in place), and
    whether anything inside it changed, a nested model included."""
    if annotation is int:
        return Int64, True
    if annotation is Decimal:
        return PlainDecimal, True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, _rewrite_model(annotation, done)
    origin, args = get_origin(annotation), get_args(annotation)
    if not args:
        return annotation, False
    if origin is Annotated:
        inner, touched = _rewrite(args[0], done)
        if inner is args[0]:
            return annotation, touched
        return Annotated[(inner, *args[1:])], True  # type: ignore[valid-type]
    results = [_rewrite(arg, done) for arg in args]
    new_args = tuple(new for new, _ in results)
    touched = any(t for _, t in results)
    if all(new is old for new, old in zip(new_args, args, strict=True)):
        return annotation, touched
    if origin in _UNION_TYPES:
        return Union[new_args], True  # noqa: UP007 (built from a tuple)
    if origin in (list, set, frozenset, tuple, dict, typing.Sequence):
        return origin[new_args if len(new_args) > 1 else new_args[0]], True
    return annotation, touched


def _rewrite_model(model: type[BaseModel], done: dict[type, bool]) -> bool:
    """Rewrite ``model``'s fields; rebuild it when it or a nested model changed (a model
    embeds the schemas of the models it contains, so those rebuild first)."""
    if model in done:
        return done[model]
    done[model] = False  # a cycle back here sees "unchanged"; the rebuild below covers it
    changed = False
    for field in model.model_fields.values():
        new, touched = _rewrite(field.annotation, done)
        field.annotation = new
        changed = changed or touched
    if changed:
        model.model_rebuild(force=True)
    done[model] = changed
    return changed


def bound_api_inputs(api: Any) -> int:
    """Rewrite the input models of every operation of ``api`` (a NinjaAPI); returns how many
    models changed."""
    done: dict[type, bool] = {}
    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                for model in operation.models:
                    _rewrite_model(model, done)
    return sum(done.values())
