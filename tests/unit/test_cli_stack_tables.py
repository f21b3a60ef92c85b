"""`cgw --stack-name`: table names from the stack's CloudFormation outputs (moto's in-process AWS),
with explicit table flags winning over them."""

from __future__ import annotations

from collections.abc import Iterator

import botocore.session
import pytest
import yaml
from moto import mock_aws

from codegateway.cli.context import Admin, Connection
from codegateway.errors import NotFound

OUTPUTS = {
    "AccountsTableName": "cgw-AccountsTable-A1",
    "ApiKeysTableName": "cgw-ApiKeysTable-B2",
    "UsageTableName": "cgw-UsageTable-C3",
    "RateLimitsTableName": "cgw-RateLimitsTable-D4",
}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    for name in ("CGW_DYNAMODB_ENDPOINT", "CGW_ACCOUNTS_TABLE", "CGW_API_KEYS_TABLE", "CGW_USAGE_TABLE"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        yield


def _create_stack(name: str, outputs: dict[str, str]) -> None:
    template = {
        "Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    client = botocore.session.Session().create_client("cloudformation", region_name="eu-west-1")
    client.create_stack(StackName=name, TemplateBody=yaml.safe_dump(template))


def test_table_names_come_from_the_stack_outputs_and_flags_override_them(aws: None) -> None:
    _create_stack("codegateway", OUTPUTS)
    settings = Admin(Connection(stack_name="codegateway", region="eu-west-1")).settings
    assert (settings.accounts_table, settings.api_keys_table, settings.usage_table, settings.rate_limits_table) == (
        "cgw-AccountsTable-A1",
        "cgw-ApiKeysTable-B2",
        "cgw-UsageTable-C3",
        "cgw-RateLimitsTable-D4",
    )
    assert settings.aws_region == "eu-west-1"
    flagged = Admin(Connection(stack_name="codegateway", region="eu-west-1", usage_table="mine")).settings
    assert (flagged.usage_table, flagged.accounts_table) == ("mine", "cgw-AccountsTable-A1")


def test_an_unknown_stack_or_one_without_the_outputs_is_not_found(aws: None) -> None:
    with pytest.raises(NotFound, match="no such CloudFormation stack"):
        _ = Admin(Connection(stack_name="nope", region="eu-west-1")).settings
    _create_stack("other", {"Something": "else"})
    with pytest.raises(NotFound, match="AccountsTableName"):
        _ = Admin(Connection(stack_name="other", region="eu-west-1")).settings
