"""The local tables are built from template.yaml's own definitions."""

from __future__ import annotations

from codegateway.dev.table_schema import (
    TABLE_SETTINGS,
    create_table_requests,
    find_template,
    load_template,
    table_definitions,
)
from codegateway.settings import Settings


def test_every_template_table_has_a_local_name_and_keeps_its_key_schema() -> None:
    template = load_template(find_template())
    definitions = table_definitions(template)
    assert set(definitions) == set(TABLE_SETTINGS)
    requests = {request["TableName"]: request for request in create_table_requests(template, Settings())}
    settings = Settings()
    for logical_id, properties in definitions.items():
        request = requests[getattr(settings, TABLE_SETTINGS[logical_id])]
        assert request["KeySchema"] == properties["KeySchema"]
        assert request["AttributeDefinitions"] == properties["AttributeDefinitions"]
        assert request.get("GlobalSecondaryIndexes") == properties.get("GlobalSecondaryIndexes")
        assert request["BillingMode"] == "PAY_PER_REQUEST"


def test_usage_items_carry_every_record_field() -> None:
    from dataclasses import fields

    from codegateway.domain.records import UsageRecord
    from codegateway.store.usage import _INT_FIELDS, _STR_FIELDS

    assert set(_INT_FIELDS) | set(_STR_FIELDS) | {"stream"} == {field.name for field in fields(UsageRecord)}
