"""JSON Schemas of event properties: compiled once, read the same by every consumer.

The ingestion service refuses an event whose properties break its type's schema; the lakehouse
quarantines one. Both name each broken rule by its field path through ``CompiledSchema``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for

from analytics_pipeline.events.envelope import FieldError


def compile_schema(json_schema: dict[str, Any]) -> Validator:
    """A validator for the schema's declared draft (2020-12 when it declares none)."""
    cls = validator_for(json_schema, default=Draft202012Validator)
    cls.check_schema(json_schema)
    return cls(json_schema)


@dataclass(frozen=True)
class CompiledSchema:
    version: int
    validator: Validator

    def errors_for(self, properties: dict[str, Any]) -> list[FieldError]:
        """Every broken rule, named by the field's path (``properties.amount``), in path order."""
        errors: dict[tuple[str, str], None] = {}  # ordered and without repeats
        for error in sorted(self.validator.iter_errors(properties), key=_path_order):
            path = ["properties", *map(str, error.absolute_path)]
            if error.validator == "required" and isinstance(error.instance, dict):
                for name in error.validator_value:  # name the missing field itself
                    if name not in error.instance:
                        errors[(".".join([*path, name]), "is required")] = None
            else:
                errors[(".".join(path), error.message)] = None
        return [FieldError(field, message) for field, message in errors]


def _path_order(error: Any) -> list[tuple[int, int, str]]:
    """Array indexes in numeric order (items.2 before items.10), names alphabetically."""
    return [(0, part, "") if isinstance(part, int) else (1, 0, str(part)) for part in error.absolute_path]
