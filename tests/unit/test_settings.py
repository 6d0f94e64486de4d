"""Settings: profile defaults, the ANALYTICS_ environment, and the round trip to child processes."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from analytics_pipeline.settings import Settings

pytestmark = pytest.mark.usefixtures("clean_analytics_env")


def topic_layout(settings: Settings) -> tuple[int | None, int | None, int | None]:
    return (
        settings.kafka_topic_partitions,
        settings.kafka_replication_factor,
        settings.kafka_min_insync_replicas,
    )


class TestProfileDefaults:
    def test_local_profile_is_the_default(self) -> None:
        settings = Settings()
        assert settings.profile == "local"
        assert topic_layout(settings) == (3, 1, 1)

    def test_production_profile(self) -> None:
        assert topic_layout(Settings(profile="production")) == (100, 3, 2)

    def test_explicit_values_win_over_the_profile(self) -> None:
        assert topic_layout(Settings(profile="production", kafka_topic_partitions=12)) == (12, 3, 2)
        assert topic_layout(Settings(profile="local", kafka_min_insync_replicas=2)) == (3, 1, 2)

    def test_unknown_profile_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="profile"):
            Settings(profile="staging")  # type: ignore[arg-type]

    def test_partitions_below_one_are_refused(self) -> None:
        with pytest.raises(ValidationError, match="kafka_topic_partitions"):
            Settings(kafka_topic_partitions=0)


class TestEnvironment:
    def test_prefixed_variables_are_read(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("ANALYTICS_PROFILE", "production")
        monkeypatch.setenv("ANALYTICS_KAFKA_TOPIC_PARTITIONS", "7")
        monkeypatch.setenv("ANALYTICS_REDIS_URL", "redis://cache:6380/2")
        monkeypatch.setenv("ANALYTICS_BREAKER_WINDOW_S", "12.5")
        settings = Settings()
        assert topic_layout(settings) == (7, 3, 2)
        assert settings.redis_url == "redis://cache:6380/2"
        assert settings.breaker_window_s == 12.5

    def test_variable_names_are_case_insensitive(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("analytics_ingest_port", "8123")
        assert Settings().ingest_port == 8123

    def test_unprefixed_variables_are_ignored(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("REDIS_URL", "redis://elsewhere:1/0")
        monkeypatch.setenv("PROFILE", "production")
        settings = Settings()
        assert settings.redis_url == "redis://127.0.0.1:6379/0"
        assert settings.profile == "local"

    def test_api_key_is_read_as_a_secret(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("ANALYTICS_API_KEY", "ak_plaintext")
        settings = Settings()
        assert isinstance(settings.api_key, SecretStr)
        assert settings.api_key.get_secret_value() == "ak_plaintext"
        assert "ak_plaintext" not in repr(settings)

    def test_invalid_values_are_refused(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("ANALYTICS_INGEST_PORT", "eighty")
        with pytest.raises(ValidationError, match="ingest_port"):
            Settings()


class TestAsEnvironment:
    def test_round_trips_into_equal_settings(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        original = Settings(
            profile="production",
            home=tmp_path,
            kafka_topic_partitions=24,
            api_key=SecretStr("ak_round_trip"),
            rate_limit_user="5/second",
            breaker_failure_ratio=0.25,
            metadata_url="postgresql+psycopg://u@db/meta",
        )
        for name, value in original.as_environment().items():
            monkeypatch.setenv(name, value)
        assert Settings() == original

    def test_reveals_the_api_key_for_the_child(self, tmp_path: Path) -> None:
        env = Settings(home=tmp_path, api_key=SecretStr("ak_child")).as_environment()
        assert env["ANALYTICS_API_KEY"] == "ak_child"

    def test_leaves_out_unset_values(self, tmp_path: Path) -> None:
        env = Settings(home=tmp_path).as_environment()
        assert "ANALYTICS_API_KEY" not in env
        assert "ANALYTICS_METADATA_URL" not in env
        assert "ANALYTICS_JARS_DIR" not in env

    def test_includes_the_resolved_profile_defaults(self, tmp_path: Path) -> None:
        env = Settings(profile="production", home=tmp_path).as_environment()
        assert env["ANALYTICS_KAFKA_TOPIC_PARTITIONS"] == "100"
        assert env["ANALYTICS_KAFKA_MIN_INSYNC_REPLICAS"] == "2"

    def test_paths_become_absolute_so_a_child_in_another_directory_agrees(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        monkeypatch.chdir(tmp_path)
        env = Settings(home=Path("state")).as_environment()
        assert env["ANALYTICS_HOME"] == str(tmp_path.resolve() / "state")

    def test_every_value_is_a_string(self, tmp_path: Path) -> None:
        env = Settings(home=tmp_path).as_environment()
        assert env
        assert all(name.startswith("ANALYTICS_") and isinstance(value, str) for name, value in env.items())


class TestDerivedValues:
    def test_metadata_database_defaults_to_sqlite_under_home(self, tmp_path: Path) -> None:
        settings = Settings(home=tmp_path / "home")
        assert settings.metadata_database_url == f"sqlite:///{tmp_path.resolve()}/home/metadata.db"

    def test_explicit_metadata_url_wins(self, tmp_path: Path) -> None:
        url = "postgresql+psycopg://analytics@db:5432/meta"
        assert Settings(home=tmp_path, metadata_url=url).metadata_database_url == url

    def test_ingest_api_url_is_derived_from_host_and_port(self) -> None:
        assert Settings(ingest_host="10.1.2.3", ingest_port=9001).ingest_api_url == "http://10.1.2.3:9001"

    def test_explicit_api_url_wins(self) -> None:
        settings = Settings(ingest_host="10.1.2.3", api_url="https://ingest.example.com")
        assert settings.ingest_api_url == "https://ingest.example.com"

    def test_jar_root_defaults_to_home_jars(self, tmp_path: Path) -> None:
        assert Settings(home=tmp_path).jar_root == tmp_path.resolve() / "jars"
        assert Settings(home=tmp_path, jars_dir=tmp_path / "m2").jar_root == tmp_path.resolve() / "m2"


class TestKafkaBrokers:
    def test_one_broker_is_the_default(self) -> None:
        settings = Settings()
        assert (settings.kafka_brokers, settings.kafka_bootstrap_servers, settings.kafka_controller_port) == (
            1,
            "127.0.0.1:9092",
            "9093",
        )

    def test_three_brokers_list_every_node_and_replicate_three_times(self) -> None:
        settings = Settings(kafka_brokers=3)
        assert settings.kafka_bootstrap_servers == "127.0.0.1:9092,127.0.0.1:9094,127.0.0.1:9096"
        assert settings.kafka_controller_port == "9093,9095,9097"
        assert topic_layout(settings) == (3, 3, 2)

    def test_read_from_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("ANALYTICS_KAFKA_BROKERS", "3")
        assert topic_layout(Settings()) == (3, 3, 2)

    def test_explicit_replication_wins_over_the_cluster_default(self) -> None:
        assert topic_layout(Settings(kafka_brokers=3, kafka_min_insync_replicas=3)) == (3, 3, 3)

    @pytest.mark.parametrize("brokers", [0, 2, 4])
    def test_only_one_or_three_brokers(self, brokers: int) -> None:
        with pytest.raises(ValidationError, match="kafka_brokers"):
            Settings(kafka_brokers=brokers)

    def test_three_brokers_need_three_addresses(self) -> None:
        with pytest.raises(ValidationError, match="ANALYTICS_KAFKA_BOOTSTRAP_SERVERS lists 1"):
            Settings(kafka_brokers=3, kafka_bootstrap_servers="127.0.0.1:9092")

    def test_one_controller_port_per_node(self) -> None:
        with pytest.raises(ValidationError, match="ANALYTICS_KAFKA_CONTROLLER_PORT"):
            Settings(kafka_brokers=3, kafka_controller_port="9093")
        with pytest.raises(ValidationError, match="ANALYTICS_KAFKA_CONTROLLER_PORT"):
            Settings(kafka_controller_port="nine")
