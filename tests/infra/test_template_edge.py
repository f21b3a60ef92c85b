"""The edge as synthesized: CloudFront passes the stream and the client's headers through to the proxy
URL with a secret origin header; WAF blocks sanctioned countries and regions and rate-limits per IP."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytestmark = pytest.mark.sam

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
SANCTIONED_REGION_LABELS = {
    "awswaf:clientip:geo:region:UA-43",  # Crimea
    "awswaf:clientip:geo:region:UA-40",  # Sevastopol
    "awswaf:clientip:geo:region:UA-14",  # Donetsk oblast
    "awswaf:clientip:geo:region:UA-09",  # Luhansk oblast
}


@pytest.fixture(scope="module")
def web_acl(resources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return resources["EdgeWebAcl"]


@pytest.fixture(scope="module")
def rules(web_acl: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {rule["Name"]: rule for rule in web_acl["Properties"]["Rules"]}


@pytest.fixture(scope="module")
def distribution(resources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    config: dict[str, Any] = resources["EdgeDistribution"]["Properties"]["DistributionConfig"]
    return config


def test_edge_is_on_by_default_and_can_be_turned_off(synthesized: dict[str, Any]) -> None:
    assert synthesized["Parameters"]["EnableEdge"]["Default"] == "true"
    assert synthesized["Resources"]["EdgeDistribution"]["Condition"] == "EdgeEnabled"
    assert synthesized["Resources"]["OriginVerifySecret"]["Condition"] == "EdgeEnabled"


def test_web_acl_is_created_only_in_us_east_1_else_an_existing_one_is_attached(
    synthesized: dict[str, Any], web_acl: dict[str, Any], distribution: dict[str, Any]
) -> None:
    assert web_acl["Properties"]["Scope"] == "CLOUDFRONT"
    assert web_acl["Condition"] == "CreateWebAcl"
    conditions = synthesized["Conditions"]
    assert conditions["InUsEast1"] == {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}
    assert {"Condition": "InUsEast1"} in conditions["CreateWebAcl"]["Fn::And"]
    assert synthesized["Parameters"]["ExistingWebAclArn"]["Default"] == ""
    created, otherwise = distribution["WebACLId"]["Fn::If"][1:]
    assert created == {"Fn::GetAtt": ["EdgeWebAcl", "Arn"]}
    assert otherwise == {"Fn::If": ["AttachExistingWebAcl", {"Ref": "ExistingWebAclArn"}, {"Ref": "AWS::NoValue"}]}


def test_default_sanctioned_countries_are_ofacs_comprehensive_programmes(synthesized: dict[str, Any]) -> None:
    countries = synthesized["Parameters"]["SanctionedCountries"]
    assert countries["Type"] == "CommaDelimitedList"
    assert countries["Default"].split(",") == ["CU", "IR", "KP"]  # Syria's programme ended 2025-07-01


def test_a_count_mode_geo_rule_labels_requests_before_the_region_label_block(rules: dict[str, dict[str, Any]]) -> None:
    labels = rules["GeoLabels"]
    assert labels["Action"] == {"Count": {}}
    assert labels["Statement"]["GeoMatchStatement"]["CountryCodes"] == {"Ref": "SanctionedCountries"}
    regions = rules["BlockSanctionedRegions"]
    assert labels["Priority"] < regions["Priority"]
    matches = regions["Statement"]["OrStatement"]["Statements"]
    assert {m["LabelMatchStatement"]["Key"] for m in matches} == SANCTIONED_REGION_LABELS
    assert {m["LabelMatchStatement"]["Scope"] for m in matches} == {"LABEL"}
    assert regions["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 403


def test_sanctioned_countries_are_blocked_with_a_403(rules: dict[str, dict[str, Any]]) -> None:
    countries = rules["BlockSanctionedCountries"]
    assert countries["Statement"]["GeoMatchStatement"]["CountryCodes"] == {"Ref": "SanctionedCountries"}
    assert countries["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 403


def test_per_ip_rate_limit_is_a_parameter(synthesized: dict[str, Any], rules: dict[str, dict[str, Any]]) -> None:
    rate = rules["RateLimitPerIp"]
    assert rate["Statement"]["RateBasedStatement"]["Limit"] == {"Ref": "EdgeRateLimitPer5Min"}
    assert rate["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "IP"
    assert rate["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429
    assert synthesized["Parameters"]["EdgeRateLimitPer5Min"]["Default"] == 3000


def test_refusals_use_the_anthropic_error_shape(web_acl: dict[str, Any], rules: dict[str, dict[str, Any]]) -> None:
    bodies = web_acl["Properties"]["CustomResponseBodies"]
    expected_type = {403: "permission_error", 429: "rate_limit_error"}
    for rule in rules.values():
        if "Block" not in rule["Action"]:
            continue
        response = rule["Action"]["Block"]["CustomResponse"]
        body = bodies[response["CustomResponseBodyKey"]]
        assert body["ContentType"] == "APPLICATION_JSON"
        parsed = json.loads(body["Content"])
        assert parsed["type"] == "error"
        assert parsed["error"]["type"] == expected_type[response["ResponseCode"]]
        assert parsed["error"]["message"]


def test_no_managed_rule_groups_whose_body_rules_block_prompts(rules: dict[str, dict[str, Any]]) -> None:
    for rule in rules.values():
        assert "ManagedRuleGroupStatement" not in json.dumps(rule["Statement"])
    assert set(rules) == {"GeoLabels", "BlockSanctionedRegions", "BlockSanctionedCountries", "RateLimitPerIp"}


def test_cloudfront_disables_caching_and_forwards_the_clients_headers(distribution: dict[str, Any]) -> None:
    behavior = distribution["DefaultCacheBehavior"]
    assert behavior["CachePolicyId"] == CACHING_DISABLED
    assert behavior["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
    assert set(behavior["AllowedMethods"]) == {"GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"}
    assert behavior["ViewerProtocolPolicy"] == "https-only"
    assert behavior["Compress"] is False
    assert distribution["HttpVersion"] == "http2and3"


def test_cloudfront_origin_is_the_proxy_url_over_https_with_parameterised_timeouts(
    synthesized: dict[str, Any], distribution: dict[str, Any]
) -> None:
    (origin,) = distribution["Origins"]
    assert origin["DomainName"] == {
        "Fn::Select": [2, {"Fn::Split": ["/", {"Fn::GetAtt": ["ProxyFunctionUrl", "FunctionUrl"]}]}]
    }
    custom = origin["CustomOriginConfig"]
    assert custom["OriginProtocolPolicy"] == "https-only"
    assert custom["OriginReadTimeout"] == {"Ref": "OriginReadTimeoutSeconds"}
    assert custom["OriginKeepaliveTimeout"] == {"Ref": "OriginKeepaliveTimeoutSeconds"}
    parameters = synthesized["Parameters"]
    assert parameters["OriginReadTimeoutSeconds"]["Default"] == 60
    # The proxy pings well inside even CloudFront's default 30 s read timeout.
    assert parameters["KeepaliveIntervalSeconds"]["Default"] * 2 < 30


def test_cloudfront_adds_the_origin_verify_header_from_secrets_manager(distribution: dict[str, Any]) -> None:
    (origin,) = distribution["Origins"]
    (header,) = origin["OriginCustomHeaders"]
    assert header["HeaderName"] == "x-cgw-origin-verify"
    assert header["HeaderValue"] == {"Fn::Sub": "{{resolve:secretsmanager:${OriginVerifySecret}:SecretString}}"}


def test_without_a_web_acl_cloudfronts_own_geo_restriction_still_blocks_the_countries(
    synthesized: dict[str, Any], distribution: dict[str, Any]
) -> None:
    condition, restricted, otherwise = distribution["Restrictions"]["Fn::If"]
    assert condition == "EdgeWithoutWaf"
    assert restricted["GeoRestriction"] == {"RestrictionType": "blacklist", "Locations": {"Ref": "SanctionedCountries"}}
    assert otherwise == {"Ref": "AWS::NoValue"}
    # Exactly the case where neither CreateWebAcl nor AttachExistingWebAcl holds.
    assert synthesized["Conditions"]["EdgeWithoutWaf"]["Fn::And"] == [
        {"Condition": "EdgeEnabled"},
        {"Fn::Not": [{"Condition": "InUsEast1"}]},
        {"Fn::Not": [{"Condition": "HasExistingWebAcl"}]},
    ]
