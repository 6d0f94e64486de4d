"""The metadata store behaves the same on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy

from analytics_pipeline.metadata.api_keys import hash_api_key
from analytics_pipeline.metadata.store import MetadataError, MetadataStore, project_id_from_name


def test_projects_round_trip(any_store: MetadataStore):
    created = any_store.create_project("Acme Shop")
    assert created.project_id == "acme-shop"
    assert any_store.get_project("acme-shop").name == "Acme Shop"
    assert [p.project_id for p in any_store.list_projects()] == ["acme-shop"]
    assert any_store.get_project("nope") is None


def test_a_project_id_exists_once(any_store: MetadataStore):
    any_store.create_project("shop")
    with pytest.raises(MetadataError, match="already exists"):
        any_store.create_project("Shop")


@pytest.mark.parametrize("name", ["", "!!!", "-"])
def test_names_without_letters_or_digits_are_refused(name):
    with pytest.raises(MetadataError, match="letters, digits"):
        project_id_from_name(name)


def test_keys_resolve_by_hash_until_revoked(any_store: MetadataStore):
    any_store.create_project("shop")
    key = any_store.create_api_key("shop", label="web")
    other = any_store.create_api_key("shop", label="ios")
    assert any_store.project_for_key_hash(hash_api_key(key)) == "shop"
    revoked = any_store.revoke_api_key(key[:10])
    assert (revoked.prefix, revoked.project_id, revoked.label) == (key[:10], "shop", "web")
    assert revoked.revoked_at is not None
    assert any_store.project_for_key_hash(hash_api_key(key)) is None
    assert any_store.project_for_key_hash(hash_api_key(other)) == "shop"
    assert [k.prefix for k in any_store.list_api_keys("shop")] == [other[:10]]
    assert [k.label for k in any_store.list_api_keys("shop", include_revoked=True)] == ["web", "ios"]


def test_a_prefix_of_several_live_keys_revokes_none(any_store: MetadataStore):
    any_store.create_project("shop")
    keys = [any_store.create_api_key("shop") for _ in range(2)]
    with pytest.raises(MetadataError, match="'ak_' matches 2 live keys"):
        any_store.revoke_api_key("ak_")
    assert all(any_store.project_for_key_hash(hash_api_key(k)) == "shop" for k in keys)
    # a shorter prefix that only one key has is enough, as is the whole key
    assert (
        any_store.revoke_api_key(keys[0][:9] if keys[0][:9] != keys[1][:9] else keys[0]).prefix
        == keys[0][:10]
    )
    assert any_store.revoke_api_key(keys[1]).prefix == keys[1][:10]
    with pytest.raises(MetadataError, match="no live key starts with"):
        any_store.revoke_api_key(keys[1])


def test_keys_need_an_existing_project(any_store: MetadataStore):
    with pytest.raises(MetadataError, match="no project"):
        any_store.create_api_key("ghost")


def test_only_a_hash_of_the_key_is_stored(any_store: MetadataStore):
    any_store.create_project("shop")
    key = any_store.create_api_key("shop")
    engine = sqlalchemy.create_engine(any_store.url)
    with engine.connect() as conn:
        rows = conn.execute(sqlalchemy.text("select * from api_keys")).all()
    engine.dispose()
    stored_text = " ".join(str(value) for row in rows for value in row)
    assert key not in stored_text
    assert key[10:] not in stored_text, "no part of the secret beyond the display prefix"
    assert hash_api_key(key) in stored_text


def test_schema_versions_count_up_per_event_type(any_store: MetadataStore):
    any_store.create_project("shop")
    assert any_store.register_schema("shop", "purchase", {"type": "object"}) == 1
    assert any_store.register_schema("shop", "purchase", {"type": "object", "required": ["a"]}) == 2
    assert any_store.register_schema("shop", "signup", {"type": "object"}) == 1
    latest = any_store.latest_schema("shop", "purchase")
    assert (latest.version, latest.json_schema) == (2, {"type": "object", "required": ["a"]})
    assert any_store.latest_schema("shop", "page_view") is None


def test_all_schemas_lists_every_version_of_the_projects_asked(any_store: MetadataStore):
    for name in ("shop", "blog"):
        any_store.create_project(name)
    any_store.register_schema("shop", "purchase", {"type": "object"})
    any_store.register_schema("shop", "purchase", {"required": ["amount"]})
    any_store.register_schema("shop", "signup", {"type": "object"})
    any_store.register_schema("blog", "comment", {"type": "object"})

    found = any_store.all_schemas(["shop"])

    versions = {(s.project_id, s.event_type, s.version): s.json_schema for s in found}
    assert versions == {
        ("shop", "purchase", 1): {"type": "object"},
        ("shop", "purchase", 2): {"required": ["amount"]},
        ("shop", "signup", 1): {"type": "object"},
    }
    assert any_store.all_schemas([]) == []


def test_concurrent_registrations_get_distinct_versions(any_store: MetadataStore):
    any_store.create_project("shop")
    versions: list[int] = []

    def register(n: int) -> None:
        versions.append(any_store.register_schema("shop", "purchase", {"title": str(n)}))

    threads = [threading.Thread(target=register, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(versions) == [1, 2, 3, 4]


def test_everything_survives_a_new_process_connection(any_store: MetadataStore):
    any_store.create_project("shop")
    key = any_store.create_api_key("shop")
    any_store.register_schema("shop", "purchase", {"type": "object"})
    reopened = MetadataStore(any_store.url)
    assert reopened.project_for_key_hash(hash_api_key(key)) == "shop"
    assert reopened.latest_schema("shop", "purchase").version == 1
    reopened.close()
