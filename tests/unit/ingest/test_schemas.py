"""Property schemas: compiling for the declared draft, and one error per offending field path."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft4Validator, Draft202012Validator
from jsonschema.exceptions import SchemaError

from analytics_pipeline.events.envelope import FieldError
from analytics_pipeline.events.property_schema import CompiledSchema, compile_schema

PURCHASE = {
    "type": "object",
    "required": ["amount", "currency"],
    "properties": {
        "amount": {"type": "number", "minimum": 0},
        "currency": {"type": "string", "enum": ["EUR", "USD"]},
        "address": {"type": "object", "properties": {"zip": {"type": "string"}}, "required": ["city"]},
        "items": {
            "type": "array",
            "items": {"type": "object", "required": ["sku"], "properties": {"qty": {"type": "integer"}}},
        },
    },
}


def errors_for(schema: dict[str, Any], properties: dict[str, Any]) -> list[FieldError]:
    return CompiledSchema(1, compile_schema(schema)).errors_for(properties)


def fields(errors: list[FieldError]) -> list[str]:
    return [error.field for error in errors]


class TestCompileSchema:
    def test_defaults_to_draft_2020_12(self) -> None:
        assert isinstance(compile_schema({"type": "object"}), Draft202012Validator)

    def test_honours_a_declared_draft(self) -> None:
        validator = compile_schema({"$schema": "http://json-schema.org/draft-04/schema#", "type": "object"})
        assert isinstance(validator, Draft4Validator)

    def test_declared_draft_decides_the_meaning_of_keywords(self) -> None:
        # A boolean exclusiveMinimum is draft-04; 2020-12 requires a number there.
        draft4 = {
            "$schema": "http://json-schema.org/draft-04/schema#",
            "properties": {"n": {"type": "number", "minimum": 5, "exclusiveMinimum": True}},
        }
        assert fields(errors_for(draft4, {"n": 5})) == ["properties.n"]
        assert errors_for(draft4, {"n": 6}) == []
        with pytest.raises(SchemaError):
            compile_schema({"properties": {"n": {"exclusiveMinimum": True}}})

    @pytest.mark.parametrize(
        "schema",
        [{"type": 5}, {"type": "objekt"}, {"required": "amount"}, {"properties": {"a": {"minimum": "0"}}}],
    )
    def test_refuses_an_invalid_schema(self, schema: dict[str, Any]) -> None:
        with pytest.raises(SchemaError):
            compile_schema(schema)


class TestErrorsFor:
    def test_valid_properties_give_no_errors(self) -> None:
        assert (
            errors_for(PURCHASE, {"amount": 9.5, "currency": "EUR", "items": [{"sku": "a", "qty": 2}]}) == []
        )

    def test_a_wrong_value_is_named_by_its_path(self) -> None:
        errors = errors_for(PURCHASE, {"amount": "9.50", "currency": "EUR"})
        assert errors == [FieldError("properties.amount", "'9.50' is not of type 'number'")]

    def test_each_missing_required_property_is_named_individually(self) -> None:
        assert errors_for(PURCHASE, {}) == [
            FieldError("properties.amount", "is required"),
            FieldError("properties.currency", "is required"),
        ]

    def test_only_the_missing_ones_are_named(self) -> None:
        assert errors_for(PURCHASE, {"amount": 1}) == [FieldError("properties.currency", "is required")]

    def test_nested_objects_and_array_items_get_full_paths(self) -> None:
        errors = errors_for(
            PURCHASE,
            {
                "amount": 1,
                "currency": "EUR",
                "address": {"zip": 75001},
                "items": [{"sku": "a", "qty": "x"}, {}],
            },
        )
        assert sorted(fields(errors)) == [
            "properties.address.city",
            "properties.address.zip",
            "properties.items.0.qty",
            "properties.items.1.sku",
        ]
        assert FieldError("properties.address.city", "is required") in errors
        assert FieldError("properties.items.1.sku", "is required") in errors

    def test_the_same_error_reached_twice_is_reported_once(self) -> None:
        schema = {"allOf": [{"required": ["sku"]}, {"required": ["sku"]}, {"required": ["sku", "qty"]}]}
        assert errors_for(schema, {}) == [
            FieldError("properties.sku", "is required"),
            FieldError("properties.qty", "is required"),
        ]

    def test_an_error_on_the_whole_object_is_named_properties(self) -> None:
        errors = errors_for({"type": "object", "additionalProperties": False}, {"stray": 1})
        assert fields(errors) == ["properties"]
        assert "stray" in errors[0].message

    def test_enum_violation_message_comes_from_jsonschema(self) -> None:
        (error,) = errors_for(PURCHASE, {"amount": 1, "currency": "GBP"})
        assert error.field == "properties.currency"
        assert "'GBP' is not one of ['EUR', 'USD']" in error.message

    def test_compiled_schema_keeps_its_version(self) -> None:
        assert CompiledSchema(7, compile_schema(PURCHASE)).version == 7
