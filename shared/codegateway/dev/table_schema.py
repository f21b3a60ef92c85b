"""Create the local tables from template.yaml's own definitions, so local and deployed cannot drift."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from codegateway.settings import Settings
from codegateway.store.client import DynamoClient, call

# template.yaml logical id -> the Settings field holding that table's name.
TABLE_SETTINGS = {
    "AccountsTable": "accounts_table",
    "ApiKeysTable": "api_keys_table",
    "UsageTable": "usage_table",
    "RateLimitsTable": "rate_limits_table",
}
_CREATE_TABLE_FIELDS = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")


class _CloudFormationLoader(yaml.SafeLoader):
    """Reads !Ref, !Sub, !GetAtt... as plain values; table definitions need none of them resolved."""


def _any_tag(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]


_CloudFormationLoader.add_multi_constructor("!", _any_tag)


def load_template(path: Path) -> dict[str, Any]:
    with path.open() as handle:
        template: dict[str, Any] = yaml.load(handle, Loader=_CloudFormationLoader)  # noqa: S506 (a SafeLoader subclass)
        return template


def table_definitions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Logical id -> the table's Properties, for every AWS::DynamoDB::Table in the template."""
    return {
        logical_id: resource["Properties"]
        for logical_id, resource in template["Resources"].items()
        if resource.get("Type") == "AWS::DynamoDB::Table"
    }


def create_table_requests(template: dict[str, Any], settings: Settings) -> list[dict[str, Any]]:
    requests = []
    for logical_id, properties in table_definitions(template).items():
        request = {field: properties[field] for field in _CREATE_TABLE_FIELDS if field in properties}
        request["TableName"] = getattr(settings, TABLE_SETTINGS[logical_id])
        requests.append(request)
    return requests


def create_tables(client: DynamoClient, template_path: Path, settings: Settings) -> list[str]:
    template = load_template(template_path)
    definitions = table_definitions(template)
    existing = set(call(client.list_tables).get("TableNames", []))
    created = []
    for request in create_table_requests(template, settings):
        if request["TableName"] in existing:
            continue
        call(client.create_table, **request)
        created.append(request["TableName"])
    for logical_id, properties in definitions.items():
        ttl = properties.get("TimeToLiveSpecification")
        name = getattr(settings, TABLE_SETTINGS[logical_id])
        if ttl and name in created:
            call(
                client.update_time_to_live,
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )
    return created


def find_template(start: Path | None = None) -> Path:
    """template.yaml of the checkout this package runs from (cgw dev runs from a clone)."""
    here = (start or Path(__file__)).resolve()
    for folder in here.parents:
        candidate = folder / "template.yaml"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("template.yaml not found above " + str(here) + "; pass --template")
