"""Least privilege: each function's role grants exactly the DynamoDB actions its code calls, on
exactly the tables and indexes it calls them on, and nothing else (issue 13: the proxy could
PutItem/BatchGetItem on Accounts, the tier job Delete/Put/BatchWrite, the admin delete usage).

Reads template.yaml itself (no SAM CLI needed); test_template_functions.py checks SAM's output.
"""

from __future__ import annotations

import ast
from typing import Any

import pytest
import yaml

from tests.infra.conftest import REPO, TEMPLATE

# Every DynamoDB action each function's code calls, per table or index, found by grepping the code
# each one runs (functions/<name>/ -> codegateway flows -> store/*.py) for its botocore calls and for
# the items of each transaction. A TransactWriteItems needs the action of each item it holds (Put ->
# PutItem, Update -> UpdateItem, Delete -> DeleteItem, ConditionCheck -> ConditionCheckItem); there is
# no TransactWriteItems permission. To let a function do more: add the action here, and the same to
# its statement in template.yaml.
EXPECTED: dict[str, dict[str, set[str]]] = {
    "ProxyFunction": {
        # auth.py: accounts.get. admission.py/settlement.py: ledger.reserve, ledger.release_hold,
        # ledger.settle's charge (transaction Update).
        "AccountsTable": {"GetItem", "UpdateItem"},
        # auth.py: api_keys.get. web/keys.py -> keys_admin: put_new (transaction Update of the key
        # count + Put of the key; PutItem seeds a missing count), revoke (GetItem, transaction Updates).
        "ApiKeysTable": {"GetItem", "PutItem", "UpdateItem"},
        # web/keys.py: api_keys.list_for_account; the key-count seed lists the account's keys.
        "ApiKeysTable/index/by-account": {"Query"},
        # ledger.reserve: transaction Put of the hold item; ledger.extend: its Update (GetItem when a
        # growth's answer was lost); ledger.settle: Put of the usage record, Delete of the hold, Update
        # of the daily rollup; ledger.release_hold: Delete. web/account.py: usage.requests by account.
        "UsageTable": {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"},
        # rate_limit.py: rate_limits.take (UpdateItem), the diagnostics headroom (rate_limits.count,
        # GetItem); sign-up codes (store/email_codes.py) and dashboard sessions
        # (store/dashboard_sessions.py): PutItem, GetItem, UpdateItem.
        "RateLimitsTable": {"GetItem", "PutItem", "UpdateItem"},
    },
    "AdminFunction": {
        # accounts_admin: accounts.create (transaction Put of the account and its email claim),
        # accounts.get, accounts.scan_page (listing), accounts.set_status, balance_upkeep.top_up (transaction
        # Update); admin_api/tiers.py runs the tier job: tiers.update_tier, ledger.release_hold, Scan.
        "AccountsTable": {"GetItem", "PutItem", "UpdateItem", "Scan"},
        # keys_admin: issue_key/rotate_key -> put_new, find_key -> get, revoke (as for the proxy).
        "ApiKeysTable": {"GetItem", "PutItem", "UpdateItem"},
        "ApiKeysTable/index/by-account": {"Query"},
        # balance_upkeep.top_up (transaction Put of the ledger entry), topups.get, topups.list_for_account,
        # usage.requests by account, usage.daily_rollups, tiers.billed_spend_nano; the tier job's
        # sweep: ledger.holds (Query), release_hold (transaction Delete of the hold item).
        "UsageTable": {"GetItem", "PutItem", "DeleteItem", "Query"},
        # usage.requests by key.
        "UsageTable/index/by-key": {"Query"},
    },
    "TiersFunction": {
        # tier_job: accounts.scan_page, tiers.update_tier, balance_upkeep.release_expired_holds -> release_hold,
        # balance_upkeep.reconcile_available (GetItem, conditional UpdateItem).
        "AccountsTable": {"GetItem", "Scan", "UpdateItem"},
        # tiers.billed_spend_nano: the daily rollups; ledger.holds (Query); release_hold: transaction
        # Delete of the hold item (GetItem: the store's hold lookup, shared with the proxy's paths).
        "UsageTable": {"GetItem", "DeleteItem", "Query"},
    },
}

# botocore client method -> the IAM action it needs (transactions: see _transaction_actions).
CLIENT_METHOD_ACTIONS = {
    "get_item": "GetItem",
    "put_item": "PutItem",
    "update_item": "UpdateItem",
    "delete_item": "DeleteItem",
    "query": "Query",
    "scan": "Scan",
    "batch_get_item": "BatchGetItem",
    "batch_write_item": "BatchWriteItem",
    "transact_get_items": "GetItem",
}
TRANSACTION_ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}
# Store modules no deployed function runs (the CLI's CloudFormation/STS look-ups).
NOT_DYNAMODB = {"deployment.py"}


class _TaggedLoader(yaml.SafeLoader):
    """Keeps CloudFormation's short tags in their long form: !GetAtt A.Arn -> {"Fn::GetAtt": [A, Arn]}."""


def _tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".")
    return {f"Fn::{suffix}": value}


_TaggedLoader.add_multi_constructor("!", _tagged)


def _template() -> dict[str, Any]:
    template: dict[str, Any] = yaml.load(TEMPLATE.read_text(), Loader=_TaggedLoader)  # a SafeLoader subclass
    return template


def _resource_name(resource: Any) -> str:
    """`!GetAtt T.Arn` -> "T"; `!Sub "${T.Arn}/index/I"` -> "T/index/I"; anything else is refused."""
    if isinstance(resource, dict) and "Fn::GetAtt" in resource and resource["Fn::GetAtt"][1] == "Arn":
        return str(resource["Fn::GetAtt"][0])
    if isinstance(resource, dict) and isinstance(resource.get("Fn::Sub"), str):
        text: str = resource["Fn::Sub"]
        table, _, rest = text.removeprefix("${").partition(".Arn}")
        if text.startswith("${") and rest.startswith("/index/") and "*" not in rest:
            return table + rest
    raise AssertionError(f"not one table or index ARN: {resource!r}")


def granted_dynamodb_actions(function: dict[str, Any]) -> dict[str, set[str]]:
    """Table or index -> the DynamoDB actions the function's inline statements allow on it."""
    granted: dict[str, set[str]] = {}
    for policy in function["Properties"].get("Policies", []):
        if "Fn::If" in policy:
            policy = policy["Fn::If"][1]
        if not isinstance(policy, dict) or "Statement" not in policy:
            assert not any("DynamoDB" in name for name in policy), f"a SAM policy template, not statements: {policy}"
            continue
        for statement in policy["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            dynamodb = [action.removeprefix("dynamodb:") for action in actions if action.startswith("dynamodb:")]
            if not dynamodb:
                continue
            assert statement["Effect"] == "Allow" and "Condition" not in statement
            assert all("*" not in action for action in dynamodb), statement
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            for resource in resources:
                granted.setdefault(_resource_name(resource), set()).update(dynamodb)
    return granted


@pytest.mark.parametrize("function", sorted(EXPECTED))
def test_each_function_may_do_exactly_what_its_code_calls_on_dynamodb(function: str) -> None:
    resources = _template()["Resources"]
    assert granted_dynamodb_actions(resources[function]) == EXPECTED[function]


def test_every_function_with_table_access_is_listed() -> None:
    resources = _template()["Resources"]
    functions = {name for name, resource in resources.items() if resource["Type"] == "AWS::Serverless::Function"}
    with_access = {name for name in functions if granted_dynamodb_actions(resources[name])}
    assert with_access == set(EXPECTED)


def _store_code_actions() -> set[str]:
    """Every DynamoDB action store/ can make: the client methods it calls, and transaction items."""
    actions: set[str] = set()
    for path in sorted((REPO / "shared" / "codegateway" / "store").glob("*.py")):
        if path.name in NOT_DYNAMODB:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in CLIENT_METHOD_ACTIONS:
                actions.add(CLIENT_METHOD_ACTIONS[node.attr])
            if isinstance(node, ast.Attribute) and node.attr == "transact_write_items":
                actions.add("TransactWriteItems")  # stands for its items, checked to exist below
            if isinstance(node, ast.Dict):
                for key in node.keys:
                    if isinstance(key, ast.Constant) and key.value in TRANSACTION_ITEM_ACTIONS:
                        actions.add(TRANSACTION_ITEM_ACTIONS[key.value])
    return actions


def test_the_expected_list_covers_every_operation_the_store_code_makes_and_no_other() -> None:
    # A new botocore call (or transaction item) in store/ fails here until EXPECTED (and the template)
    # say which function may make it; an action no code makes any more fails here too.
    in_code = _store_code_actions() - {"TransactWriteItems"}
    listed = set().union(*(actions for tables in EXPECTED.values() for actions in tables.values()))
    assert in_code == listed
