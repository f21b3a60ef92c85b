"""No secret in plain text, tables protected, alarms on what pages an operator, outputs a deployer needs."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from codegateway.edge.telemetry import Telemetry
from codegateway.settings import Settings
from tests.infra.conftest import TEMPLATE, of_type
from tests.support.telemetry import lines_written

pytestmark = pytest.mark.sam

Resources = dict[str, dict[str, Any]]
SECRETISH_NAME = re.compile(r"key|secret|token|password|credential", re.IGNORECASE)
SECRETISH_VALUE = re.compile(r"sk-ant-|sk-cg-|AKIA[0-9A-Z]{12}|-----BEGIN")


def _alarm_metrics(alarm: dict[str, Any]) -> set[tuple[str, str]]:
    properties = alarm["Properties"]
    if "MetricName" in properties:
        return {(properties["Namespace"], properties["MetricName"])}
    stats = [query["MetricStat"]["Metric"] for query in properties["Metrics"] if "MetricStat" in query]
    return {(metric["Namespace"], metric["MetricName"]) for metric in stats}


def test_no_secret_value_appears_anywhere_in_the_template() -> None:
    assert SECRETISH_VALUE.search(TEMPLATE.read_text()) is None


def test_no_parameter_carries_a_secret(synthesized: dict[str, Any]) -> None:
    for name, parameter in synthesized["Parameters"].items():
        if SECRETISH_NAME.search(name):
            assert parameter.get("NoEcho") is True, f"{name} looks like a secret: use Secrets Manager"


def test_secrets_are_generated_by_secrets_manager_never_written_in_the_template(resources: Resources) -> None:
    secrets = of_type(resources, "AWS::SecretsManager::Secret")
    assert set(secrets) == {"UpstreamApiKeySecret", "OriginVerifySecret"}
    for secret in secrets.values():
        assert "SecretString" not in secret["Properties"]
        assert secret["Properties"]["GenerateSecretString"]["PasswordLength"] >= 32


def test_environment_holds_secret_ids_never_secret_values(resources: Resources) -> None:
    for name, function in of_type(resources, "AWS::Lambda::Function").items():
        for variable, value in function["Properties"].get("Environment", {}).get("Variables", {}).items():
            if SECRETISH_NAME.search(variable) and not variable.endswith("_TABLE"):  # CGW_API_KEYS_TABLE
                assert variable.endswith("_SECRET_ID"), (name, variable)
                assert "UpstreamApiKeySecret" in json.dumps(value) or "OriginVerifySecret" in json.dumps(value)
            assert not SECRETISH_VALUE.search(json.dumps(value)), (name, variable)


def test_every_table_is_on_demand_with_pitr_encryption_and_parameterised_deletion_protection(
    synthesized: dict[str, Any], resources: Resources
) -> None:
    tables = of_type(resources, "AWS::DynamoDB::Table")
    assert set(tables) == {"AccountsTable", "ApiKeysTable", "UsageTable", "RateLimitsTable"}
    for name, table in tables.items():
        properties = table["Properties"]
        assert properties["BillingMode"] == "PAY_PER_REQUEST", name
        assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, name
        assert properties["SSESpecification"] == {"SSEEnabled": True}, name
        assert properties["DeletionProtectionEnabled"] == {"Ref": "TableDeletionProtection"}, name
        assert properties["TableName"] == {"Fn::Sub": f"${{AWS::StackName}}-{_kebab(name.removesuffix('Table'))}"}
    assert synthesized["Parameters"]["TableDeletionProtection"]["Default"] == "true"
    for name in ("UsageTable", "RateLimitsTable"):
        assert tables[name]["Properties"]["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"-\1", name).lower()


@pytest.mark.parametrize(
    ("namespace", "metric"),
    [
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Throttles"),
        ("AWS/Lambda", "Url5xxCount"),
        ("CodeGateway", "UpstreamErrors"),
        ("CodeGateway", "AccountFailures"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
    ],
)
def test_an_alarm_watches(resources: Resources, namespace: str, metric: str) -> None:
    alarms = of_type(resources, "AWS::CloudWatch::Alarm").values()
    assert any((namespace, metric) in _alarm_metrics(alarm) for alarm in alarms)


def test_upstream_error_rate_alarm_divides_errors_by_requests_for_the_proxy_service(resources: Resources) -> None:
    properties = resources["UpstreamErrorRateAlarm"]["Properties"]
    metrics = {query["Id"]: query for query in properties["Metrics"]}
    for query_id, metric_name in (("errors", "UpstreamErrors"), ("requests", "Requests")):
        metric = metrics[query_id]["MetricStat"]["Metric"]
        assert metric["MetricName"] == metric_name
        assert metric["Dimensions"] == [{"Name": "service", "Value": "codegateway"}]
    assert "errors" in metrics["errorRate"]["Expression"] and "requests" in metrics["errorRate"]["Expression"]


@pytest.mark.parametrize(
    ("function", "alarm"),
    [
        ("ProxyFunction", "UpstreamErrorRateAlarm"),
        ("ProxyFunction", "SpeculativeRefusalRateAlarm"),
        ("TiersFunction", "TierAccountFailuresAlarm"),
    ],
)
def test_alarmed_custom_metrics_are_ones_the_function_emits(resources: Resources, function: str, alarm: str) -> None:
    env = resources[function]["Properties"]["Environment"]["Variables"]
    assert env["CGW_EMIT_METRICS"] == "true"  # off by default (the local stack): an alarm would never fire
    properties = resources[alarm]["Properties"]
    metrics = (
        [properties]
        if "MetricName" in properties
        else [q["MetricStat"]["Metric"] for q in properties["Metrics"] if "MetricStat" in q]
    )
    for metric in metrics:
        assert metric["Namespace"] == env["CGW_METRICS_NAMESPACE"]
        assert metric["Dimensions"] == [{"Name": "service", "Value": env["CGW_SERVICE_NAME"]}]


@pytest.mark.parametrize(
    ("alarm", "fields"),
    [
        ("UpstreamErrorRateAlarm", {"status": 502, "ended": "upstream_failed", "error_type": "api_error"}),
        ("SpeculativeRefusalRateAlarm", {"status": 402, "speculative": True, "speculation_refused": True}),
    ],
)
def test_a_rate_alarm_reads_metrics_the_proxy_emits_for_the_requests_it_counts(
    resources: Resources, alarm: str, fields: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    telemetry = Telemetry(Settings(emit_metrics=True, metrics_namespace="CodeGateway", service_name="codegateway"))
    blobs = [line for line in lines_written(telemetry, fields, capsys) if "_aws" in line]
    emitted = {
        (directive["Namespace"], metric["Name"])
        for blob in blobs
        for directive in blob["_aws"]["CloudWatchMetrics"]
        for metric in directive["Metrics"]
    }
    assert _alarm_metrics(resources[alarm]) <= emitted


def test_tier_alarms_watch_the_tier_function_and_its_dead_letter_queue(resources: Resources) -> None:
    dimensions = [
        json.dumps(alarm["Properties"].get("Dimensions"))
        for alarm in of_type(resources, "AWS::CloudWatch::Alarm").values()
    ]
    assert any('"Ref": "TiersFunction"' in d for d in dimensions)
    assert any("TiersDeadLetterQueue" in d for d in dimensions)
    assert any('"codegateway-tiers"' in d for d in dimensions)
    assert sum('"Ref": "ProxyFunction"' in d for d in dimensions) == 3  # errors, throttles, 5xx


def test_alarms_notify_the_optional_topic_and_stay_quiet_without_data(resources: Resources) -> None:
    for name, alarm in of_type(resources, "AWS::CloudWatch::Alarm").items():
        properties = alarm["Properties"]
        assert properties["TreatMissingData"] == "notBreaching", name
        assert properties["AlarmActions"] == {
            "Fn::If": ["HasAlarmEmail", [{"Ref": "AlarmTopic"}], {"Ref": "AWS::NoValue"}]
        }, name
    assert resources["AlarmTopic"]["Condition"] == "HasAlarmEmail"


def test_outputs_give_the_endpoint_admin_url_tables_secret_and_dead_letter_queue(synthesized: dict[str, Any]) -> None:
    outputs = synthesized["Outputs"]
    assert outputs["PublicEndpoint"]["Value"]["Fn::If"][0] == "EdgeEnabled"
    assert outputs["PublicEndpoint"]["Value"]["Fn::If"][1] == {"Fn::Sub": "https://${EdgeDistribution.DomainName}"}
    assert outputs["AdminUrl"]["Value"] == {"Fn::GetAtt": ["AdminFunctionUrl", "FunctionUrl"]}
    assert outputs["UpstreamApiKeySecretArn"]["Value"] == {"Ref": "UpstreamApiKeySecret"}
    assert outputs["TiersDeadLetterQueueUrl"]["Value"] == {"Ref": "TiersDeadLetterQueue"}
    for table in ("AccountsTable", "ApiKeysTable", "UsageTable", "RateLimitsTable"):
        assert outputs[f"{table}Name"]["Value"] == {"Ref": table}
