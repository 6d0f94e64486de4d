"""Property schemas as Spark SQL predicates, so the JVM judges the common case without Python.

``schema_predicate(schema, places)`` compiles a JSON Schema (draft 2020-12, the ingestion
service's default) into a boolean column that is true only when a record's properties certainly
conform, as ``jsonschema`` judges them. Each place it reads in a record (``$.properties['a']``)
is parsed once, into a column of its own (``Places``), however many rules and schemas read it:
the plan stays small enough for Spark to optimize in a moment. It covers the keywords project
schemas use: ``type``, ``required``, ``properties``, ``enum`` and ``const`` of scalars, ``minimum``,
``maximum``, their exclusive forms, ``minLength``, ``maxLength``, ``pattern`` and
``additionalProperties`` (true or false). A schema with any other keyword compiles to None, and
its records are judged in Python.

False never means "breaks the schema", only "not proven here": a number of 2^53 or more (a
double no longer holds every integer there), a string beyond printable ASCII under a pattern
(Java and Python read some classes differently there), an infinite number. Such records go to
Python, which also names what is wrong, so a verdict and its reasons are always Python's own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import cached_property, reduce
from typing import Any

from pyspark.sql import Column
from pyspark.sql import functions as F

Compiler = Callable[[dict[str, Any], "Places", str], Column]  # (schema, places, path) -> predicate

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
ANNOTATIONS = frozenset({"$schema", "$comment", "title", "description", "examples", "default", "deprecated"})
TYPE_NAMES = frozenset({"object", "array", "string", "boolean", "null", "number", "integer"})
EXACT_DOUBLE = float(2**53)  # below this a double holds every integer, so comparisons are exact
# A property name a variant path can hold as ['name'].
_PATH_NAME = re.compile(r"[^'\\\[\]]+")
# What a pattern may use to read the same in java.util.regex and Python's re on printable ASCII:
# literals, escaped punctuation, \d \w \s \b and their negations, classes, non-capturing and
# plain groups, quantifiers, anchors and alternation. No lookaround, backreference, named group,
# inline flag, class intersection or nested class.
_PATTERN_TOKEN = re.compile(
    r"\\[dDwWsSbB]"
    r"|\\[^A-Za-z0-9]"
    r"|\[\^?(?:\\[dDwWsS]|\\[^A-Za-z0-9]|[^\]\\\[&])+\]"
    r"|\(\?:|[()|^$.*+?]"
    r"|\{\d+(?:,\d*)?\}\??"
    r"|[A-Za-z0-9 !\"#%&',\-/:;<=>@_`~]"
)
_PRINTABLE_ASCII = r"\A[\x20-\x7E]*\z"


class _NotCompiled(Exception):
    """The schema uses a keyword, value or name this module does not compile."""


class Places:
    """The places a judgment reads in a record's VARIANT column, each a column of its own."""

    def __init__(self, record: str) -> None:
        self._record = record
        self._paths: dict[str, int] = {}

    def node(self, path: str) -> Node:
        index = self._paths.setdefault(path, len(self._paths))
        return Node(F.col(f"_place{index}"), F.col(f"_kind{index}"))

    def values(self) -> list[Column]:
        """The places' variants (absent: NULL), to select before the predicates."""
        return [
            F.variant_get(F.col(self._record), path, "variant").alias(f"_place{i}")
            for path, i in self._paths.items()
        ]

    def kinds(self) -> list[Column]:
        """The JSON type each holds (``BIGINT``, ``OBJECT<...>``, ``VOID`` for null), to select next."""
        return [F.schema_of_variant(F.col(f"_place{i}")).alias(f"_kind{i}") for i in self._paths.values()]

    def names(self) -> list[str]:
        return [name for i in self._paths.values() for name in (f"_place{i}", f"_kind{i}")]


class Node:
    """One place in a record: its variant, and the JSON type the variant holds there."""

    def __init__(self, value: Column, kind: Column) -> None:
        self.value = value
        self.kind = kind  # NULL where the place is absent

    @cached_property
    def present(self) -> Column:
        return self.kind.isNotNull()

    @cached_property
    def is_object(self) -> Column:
        return self.kind.startswith("OBJECT")

    @cached_property
    def is_string(self) -> Column:
        return self.kind == "STRING"

    @cached_property
    def is_number(self) -> Column:
        return self.kind.isin("BIGINT", "DOUBLE") | self.kind.startswith("DECIMAL")

    @cached_property
    def number(self) -> Column:
        return F.try_variant_get(self.value, "$", "double")

    @cached_property
    def exact_number(self) -> Column:
        """A number a double holds as Python does: finite, and exact when it is an integer."""
        return self.is_number & (F.abs(self.number) < F.lit(EXACT_DOUBLE))

    @cached_property
    def boolean(self) -> Column:
        return F.try_variant_get(self.value, "$", "boolean")

    @cached_property
    def text(self) -> Column:
        return F.try_variant_get(self.value, "$", "string")

    def is_type(self, name: str) -> Column:
        """``type``: jsonschema's reading (an integer is any number without a fraction, 1.0
        included; a boolean is never a number)."""
        kinds = {
            "object": self.is_object,
            "array": self.kind.startswith("ARRAY"),
            "string": self.is_string,
            "boolean": self.kind == "BOOLEAN",
            "null": self.kind == "VOID",
            "number": self.exact_number,
        }
        if name in kinds:
            return kinds[name]
        return self.exact_number & (self.number == F.floor(self.number))  # integer


def schema_predicate(schema: Any, places: Places) -> Column | None:
    """The predicate of a property schema over ``places``, or None when it uses what this does
    not compile."""
    if isinstance(schema, dict) and schema.get("$schema", DRAFT_2020_12) != DRAFT_2020_12:
        return None
    try:
        return F.coalesce(_compiled(schema, places, "$.properties"), F.lit(False))
    except _NotCompiled:
        return None


def _compiled(schema: Any, places: Places, path: str) -> Column:
    if schema is True or schema == {}:
        return F.lit(True)
    if schema is False:
        return ~places.node(path).present
    if not isinstance(schema, dict):
        raise _NotCompiled("a schema is an object or a boolean")
    unknown = set(schema) - ANNOTATIONS - set(_KEYWORDS)
    if unknown:
        raise _NotCompiled(f"keywords {sorted(unknown)}")
    checks = [_KEYWORDS[keyword](schema, places, path) for keyword in sorted(set(schema) & set(_KEYWORDS))]
    return _all(checks)


def _all(conditions: Iterable[Column]) -> Column:
    return reduce(lambda a, b: a & b, conditions, F.lit(True))


def _type(schema: dict[str, Any], places: Places, path: str) -> Column:
    names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    if not names or not all(name in TYPE_NAMES for name in names):
        raise _NotCompiled(f"type {names!r}")
    node = places.node(path)
    return reduce(lambda a, b: a | b, (node.is_type(name) for name in names))


def _required(schema: dict[str, Any], places: Places, path: str) -> Column:
    names = [_path_name(name) for name in schema["required"]]
    present = (places.node(f"{path}['{name}']").present for name in names)
    return ~places.node(path).is_object | _all(present)


def _properties(schema: dict[str, Any], places: Places, path: str) -> Column:
    if not isinstance(schema["properties"], dict):
        raise _NotCompiled("properties")
    held = []
    for name, sub in schema["properties"].items():
        child = f"{path}['{_path_name(name)}']"
        held.append(~places.node(child).present | _compiled(sub, places, child))
    return ~places.node(path).is_object | _all(held)


def _additional_properties(schema: dict[str, Any], places: Places, path: str) -> Column:
    allowed = schema["additionalProperties"]
    if allowed is True or allowed == {}:
        return F.lit(True)
    if allowed is not False:
        raise _NotCompiled("additionalProperties other than true or false")
    names = list(schema.get("properties", {}))
    node = places.node(path)
    keys = F.json_object_keys(F.to_json(node.value))
    return ~node.is_object | F.forall(keys, lambda key: key.isin(names) if names else F.lit(False))


def _equal_to(value: Any) -> Callable[[Node], Column]:
    """jsonschema's equality with one scalar: a boolean equals only a boolean, 1 equals 1.0."""
    if isinstance(value, bool):
        return lambda node: (node.kind == "BOOLEAN") & (node.boolean == value)
    if value is None:
        return lambda node: node.kind == "VOID"
    if isinstance(value, str):
        return lambda node: node.is_string & (node.text == value)
    if isinstance(value, int | float) and abs(value) < EXACT_DOUBLE:
        return lambda node: node.exact_number & (node.number == float(value))
    raise _NotCompiled(f"enum or const value {value!r}")


def _enum(schema: dict[str, Any], places: Places, path: str) -> Column:
    values = schema["enum"]
    if not isinstance(values, list) or not values:
        raise _NotCompiled("enum")
    node = places.node(path)
    return reduce(lambda a, b: a | b, (_equal_to(value)(node) for value in values))


def _const(schema: dict[str, Any], places: Places, path: str) -> Column:
    return _equal_to(schema["const"])(places.node(path))


def _bound(keyword: str, compare: Callable[[Column, float], Column]) -> Compiler:
    def compile_bound(schema: dict[str, Any], places: Places, path: str) -> Column:
        bound = schema[keyword]
        if isinstance(bound, bool) or not isinstance(bound, int | float) or not abs(bound) < EXACT_DOUBLE:
            raise _NotCompiled(keyword)
        node = places.node(path)
        return ~node.is_number | (node.exact_number & compare(node.number, float(bound)))

    return compile_bound


def _length(keyword: str, compare: Callable[[Column, int], Column]) -> Compiler:
    def compile_length(schema: dict[str, Any], places: Places, path: str) -> Column:
        bound = schema[keyword]
        if isinstance(bound, bool) or not isinstance(bound, int) or bound < 0:
            raise _NotCompiled(keyword)
        node = places.node(path)
        return ~node.is_string | compare(F.char_length(node.text), bound)

    return compile_length


def _pattern(schema: dict[str, Any], places: Places, path: str) -> Column:
    pattern = schema["pattern"]
    if not isinstance(pattern, str) or not _portable(pattern):
        raise _NotCompiled(f"pattern {pattern!r}")
    node = places.node(path)
    return ~node.is_string | (node.text.rlike(_PRINTABLE_ASCII) & node.text.rlike(pattern))


def _portable(pattern: str) -> bool:
    """Made only of tokens both regex engines read alike on printable ASCII, and valid."""
    position = 0
    while position < len(pattern):
        token = _PATTERN_TOKEN.match(pattern, position)
        if token is None:
            return False
        position = token.end()
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


def _path_name(name: Any) -> str:
    if not isinstance(name, str) or not _PATH_NAME.fullmatch(name):
        raise _NotCompiled(f"property name {name!r}")
    return name


_KEYWORDS: dict[str, Compiler] = {
    "type": _type,
    "required": _required,
    "properties": _properties,
    "additionalProperties": _additional_properties,
    "enum": _enum,
    "const": _const,
    "minimum": _bound("minimum", lambda number, bound: number >= bound),
    "maximum": _bound("maximum", lambda number, bound: number <= bound),
    "exclusiveMinimum": _bound("exclusiveMinimum", lambda number, bound: number > bound),
    "exclusiveMaximum": _bound("exclusiveMaximum", lambda number, bound: number < bound),
    "minLength": _length("minLength", lambda length, bound: length >= bound),
    "maxLength": _length("maxLength", lambda length, bound: length <= bound),
    "pattern": _pattern,
}
