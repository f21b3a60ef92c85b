"""A deployed stack as the `cgw` admin commands see it: its table names (CloudFormation outputs) and
who is calling (STS), so ledger entries name the admin's own IAM identity."""

from __future__ import annotations

import botocore.session
from botocore.exceptions import BotoCoreError, ClientError

from codegateway.dev.table_schema import TABLE_SETTINGS
from codegateway.errors import NotFound, StoreUnavailable

# template.yaml names each table output after the table's logical id: AccountsTable -> AccountsTableName.
OUTPUT_SETTINGS = {f"{logical_id}Name": setting for logical_id, setting in TABLE_SETTINGS.items()}


def table_names_from_stack(stack_name: str, region: str) -> dict[str, str]:
    """Settings field -> table name, e.g. {"accounts_table": "cgw-AccountsTable-1X2Y3Z", ...}."""
    client = botocore.session.Session().create_client("cloudformation", region_name=region)
    try:
        stacks = client.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            raise NotFound(f"stack {stack_name}: no such CloudFormation stack in {region}.") from error
        raise StoreUnavailable(f"Could not read stack {stack_name}: {error}") from error
    except BotoCoreError as error:
        raise StoreUnavailable(f"Could not read stack {stack_name}: {error}") from error
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stacks[0].get("Outputs", [])}
    missing = sorted(set(OUTPUT_SETTINGS) - set(outputs))
    if missing:
        raise NotFound(f"stack {stack_name}: outputs {', '.join(missing)} are missing; is it a CodeGateway stack?")
    return {setting: outputs[output] for output, setting in OUTPUT_SETTINGS.items()}


def caller_arn(region: str) -> str | None:
    """The ARN of the AWS identity these credentials belong to; None when STS cannot say."""
    client = botocore.session.Session().create_client("sts", region_name=region)
    try:
        return str(client.get_caller_identity()["Arn"])
    except (BotoCoreError, ClientError):
        return None
