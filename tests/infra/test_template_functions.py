"""The functions as SAM synthesizes them: streaming proxy under the Web Adapter, IAM-only admin URL,
scheduled tier job with retries and a dead-letter queue, least-privilege roles."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from codegateway.settings import Settings
from tests.infra.conftest import TEMPLATE, of_type
from tests.infra.test_iam_least_privilege import EXPECTED, granted_dynamodb_actions
from tests.load.processes import Upstream, proxy_env

pytestmark = pytest.mark.sam

Resources = dict[str, dict[str, Any]]
TABLES = {
    "CGW_ACCOUNTS_TABLE": "AccountsTable",
    "CGW_API_KEYS_TABLE": "ApiKeysTable",
    "CGW_USAGE_TABLE": "UsageTable",
    "CGW_RATE_LIMITS_TABLE": "RateLimitsTable",
}


def _settings_env_names() -> set[str]:
    return {"CGW_" + name.upper() for name in Settings.model_fields}


def _props(resources: Resources, logical_id: str) -> dict[str, Any]:
    properties: dict[str, Any] = resources[logical_id]["Properties"]
    return properties


def _env(resources: Resources, function: str) -> dict[str, Any]:
    variables: dict[str, Any] = _props(resources, function)["Environment"]["Variables"]
    return variables


def _statements(resources: Resources, role: str) -> list[dict[str, Any]]:
    statements = []
    for policy in _props(resources, role)["Policies"]:
        if "Fn::If" in policy:  # conditional policy: [condition, policy, AWS::NoValue]
            policy = policy["Fn::If"][1]
        statements.extend(policy["PolicyDocument"]["Statement"])
    return statements


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def test_proxy_streams_through_a_public_function_url(resources: Resources) -> None:
    url = _props(resources, "ProxyFunctionUrl")
    assert url["InvokeMode"] == "RESPONSE_STREAM"
    assert url["AuthType"] == "NONE"
    assert url["TargetFunctionArn"] == {"Ref": "ProxyFunction"}
    # Since October 2025 a NONE-auth URL needs both lambda:InvokeFunctionUrl and lambda:InvokeFunction.
    permissions = {p["Properties"]["Action"] for p in of_type(resources, "AWS::Lambda::Permission").values()}
    assert {"lambda:InvokeFunctionUrl", "lambda:InvokeFunction"} <= permissions


def test_proxy_runs_under_the_lambda_web_adapter_in_response_stream_mode(resources: Resources) -> None:
    proxy = _props(resources, "ProxyFunction")
    env = _env(resources, "ProxyFunction")
    assert proxy["Handler"] == "run.sh"
    assert proxy["Runtime"] == "python3.13"
    assert proxy["Architectures"] == ["arm64"]
    assert env["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/bootstrap"
    assert env["AWS_LWA_INVOKE_MODE"] == "response_stream"
    assert env["AWS_LWA_READINESS_CHECK_PATH"] == "/healthz"
    assert env["AWS_LWA_PORT"] == "8080"
    adapter = proxy["Layers"][0]["Fn::Sub"]
    assert adapter.startswith("arn:${AWS::Partition}:lambda:${AWS::Region}:753240598075:layer:LambdaAdapterLayerArm64:")


def test_proxy_outlives_the_600_s_response_limit_and_memory_is_a_parameter(synthesized: dict[str, Any]) -> None:
    proxy = synthesized["Resources"]["ProxyFunction"]["Properties"]
    # The app cuts (and settles) a response at total_timeout_s; Lambda must never cut it first.
    assert Settings().total_timeout_s + 30 <= proxy["Timeout"] <= 900
    assert proxy["MemorySize"] == {"Ref": "ProxyMemorySize"}
    assert synthesized["Parameters"]["ProxyMemorySize"]["Default"] == 1024


def test_keepalive_default_stays_well_under_cloudfronts_30_s_read_timeout(synthesized: dict[str, Any]) -> None:
    keepalive = synthesized["Parameters"]["KeepaliveIntervalSeconds"]
    assert keepalive["Default"] == 10
    assert keepalive["MaxValue"] < 30
    assert _env(synthesized["Resources"], "ProxyFunction")["CGW_KEEPALIVE_INTERVAL_S"] == {
        "Ref": "KeepaliveIntervalSeconds"
    }


def test_every_function_gets_the_table_names_the_settings_read(resources: Resources) -> None:
    for function in ("ProxyFunction", "AdminFunction", "TiersFunction"):
        env = _env(resources, function)
        for variable, table in TABLES.items():
            assert env[variable] == {"Ref": table}, (function, variable)
        # A CGW_ name the settings model does not know would be silently ignored (extra="ignore").
        unknown = {name for name in env if name.startswith("CGW_")} - _settings_env_names()
        assert unknown == set(), (function, unknown)
        assert _props(resources, function)["Layers"][-2:] == [
            {"Ref": next(n for n in resources if n.startswith("DependenciesLayer"))},
            {"Ref": next(n for n in resources if n.startswith("CodeGatewayLayer"))},
        ]


def test_proxy_environment_names_its_upstream_and_powertools_settings(resources: Resources) -> None:
    env = _env(resources, "ProxyFunction")
    assert env["CGW_UPSTREAM_URL"] == {"Ref": "UpstreamUrl"}
    assert env["CGW_UPSTREAM_API_KEY_SECRET_ID"] == {"Ref": "UpstreamApiKeySecret"}
    assert env["CGW_ORIGIN_VERIFY_SECRET_ID"] == {"Fn::If": ["EdgeEnabled", {"Ref": "OriginVerifySecret"}, ""]}
    assert env["POWERTOOLS_SERVICE_NAME"] == "codegateway"
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "CodeGateway"
    assert env["CGW_LOG_LEVEL"] == {"Ref": "LogLevel"}


def test_proxy_reads_exactly_its_two_secrets_and_no_other(resources: Resources) -> None:
    secret_statements = [
        s for s in _statements(resources, "ProxyFunctionRole") if "secretsmanager:GetSecretValue" in _actions(s)
    ]
    granted = sorted(s["Resource"]["Fn::Sub"][1]["secretArn"]["Ref"] for s in secret_statements)
    assert granted == ["OriginVerifySecret", "UpstreamApiKeySecret"]
    assert all(_actions(s) == {"secretsmanager:GetSecretValue"} for s in secret_statements)


def test_synthesized_roles_grant_exactly_the_dynamodb_actions_the_code_calls(resources: Resources) -> None:
    # The same list as the template test (test_iam_least_privilege.EXPECTED), on what SAM deploys.
    for function, expected in EXPECTED.items():
        documents = []
        for policy in _props(resources, f"{function}Role")["Policies"]:
            if "Fn::If" in policy:
                policy = policy["Fn::If"][1]
            documents.append(policy["PolicyDocument"])
        assert granted_dynamodb_actions({"Properties": {"Policies": documents}}) == expected, function
    for role in ("ProxyFunctionRole", "AdminFunctionRole", "TiersFunctionRole"):
        for statement in _statements(resources, role):
            assert statement["Resource"] != "*"
            assert not any(action.endswith("*") for action in _actions(statement))


def test_admin_url_requires_iam_auth_and_buffers(resources: Resources) -> None:
    url = _props(resources, "AdminFunctionUrl")
    assert url["AuthType"] == "AWS_IAM"
    assert url.get("InvokeMode", "BUFFERED") == "BUFFERED"
    assert _props(resources, "AdminFunction")["Handler"] == "app.handler"
    # No resource policy opens it to anyone: only this account's IAM principals can sign a call.
    for permission in of_type(resources, "AWS::Lambda::Permission").values():
        assert permission["Properties"]["FunctionName"] != {"Ref": "AdminFunction"}


def test_tier_job_runs_hourly_on_eventbridge_scheduler_with_retries_and_a_dead_letter_queue(
    synthesized: dict[str, Any],
) -> None:
    resources = synthesized["Resources"]
    schedules = of_type(resources, "AWS::Scheduler::Schedule")
    assert len(schedules) == 1
    schedule = next(iter(schedules.values()))["Properties"]
    assert schedule["ScheduleExpression"] == {"Ref": "TierScheduleExpression"}
    assert synthesized["Parameters"]["TierScheduleExpression"]["Default"] == "rate(1 hour)"
    assert "Name" not in schedule  # generated, so two stacks in one account do not collide
    target = schedule["Target"]
    assert target["Arn"] == {"Fn::GetAtt": ["TiersFunction", "Arn"]}
    assert json.loads(target["Input"]) == {"scheduled_time": "<aws.scheduler.scheduled-time>"}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["TiersDeadLetterQueue", "Arn"]}
    # Failures once running (Lambda's async retries) land in the same queue.
    invoke = next(iter(of_type(resources, "AWS::Lambda::EventInvokeConfig").values()))["Properties"]
    assert invoke["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["TiersDeadLetterQueue", "Arn"]}
    assert _props(resources, "TiersDeadLetterQueue")["SqsManagedSseEnabled"] is True
    assert _env(resources, "TiersFunction")["POWERTOOLS_SERVICE_NAME"] == "codegateway-tiers"


def test_every_function_keeps_its_logs_for_a_bounded_time(resources: Resources) -> None:
    groups = {
        g["Properties"]["LogGroupName"]["Fn::Sub"]: g["Properties"]
        for g in of_type(resources, "AWS::Logs::LogGroup").values()
    }
    for function in ("ProxyFunction", "AdminFunction", "TiersFunction"):
        assert groups[f"/aws/lambda/${{{function}}}"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_template_has_no_hard_coded_partition_or_account() -> None:
    text = TEMPLATE.read_text()
    assert "arn:aws:" not in text
    # The only account id is the Web Adapter layer's publisher's.
    assert set(re.findall(r"\b\d{12}\b", text)) == {"753240598075"}


def test_the_bench_runs_the_proxy_with_the_per_request_work_the_template_turns_on(resources: Resources) -> None:
    # The bench's CPU and TTFB figures are only the deployed proxy's if it does the same work per request.
    deployed = _env(resources, "ProxyFunction")
    bench = proxy_env("http://127.0.0.1:1", Upstream("http://127.0.0.1:1", "unused"), 0)
    assert bench["CGW_EMIT_METRICS"] == deployed["CGW_EMIT_METRICS"] == "true"
