"""project_id_from_name: a lower-case, dash-separated id that is safe inside a Kafka topic name."""

from __future__ import annotations

import re

import pytest

from analytics_pipeline.metadata.store import PROJECT_ID_PATTERN, MetadataError, project_id_from_name

KAFKA_TOPIC_CHARS = re.compile(r"^[a-zA-Z0-9._-]+$")


class TestProjectIdFromName:
    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("shop", "shop"),
            ("My Shop", "my-shop"),
            ("  Acme   Corp!! 2026  ", "acme-corp-2026"),
            ("--web__app--", "web-app"),
            ("already-an-id", "already-an-id"),
            ("Café Crème", "cafe-creme"),
            ("Ünïcode Shop!!", "unicode-shop"),
            ("商店", "shang-dian"),
            ("Straße", "strasse"),
            ("42", "42"),
        ],
    )
    def test_derives_a_slug_transliterating_other_scripts(self, name: str, expected: str) -> None:
        assert project_id_from_name(name) == expected

    def test_long_names_are_cut_to_48_characters(self) -> None:
        project_id = project_id_from_name("x" * 60)
        assert project_id == "x" * 48

    def test_a_cut_never_leaves_a_trailing_dash(self) -> None:
        assert project_id_from_name("a" * 47 + " b") == "a" * 47

    @pytest.mark.parametrize("name", ["Shop", "a" * 100, "Ünïcode Store", "x.y.z", " 1 2 3 "])
    def test_result_is_a_valid_project_id_and_topic_suffix(self, name: str) -> None:
        project_id = project_id_from_name(name)
        assert PROJECT_ID_PATTERN.match(project_id)
        assert KAFKA_TOPIC_CHARS.match(f"events.processed.{project_id}")

    @pytest.mark.parametrize("name", ["", "   ", "!!!", "___", "☃☃"])
    def test_names_without_letters_or_digits_are_refused(self, name: str) -> None:
        with pytest.raises(MetadataError, match="cannot derive a project id from"):
            project_id_from_name(name)
