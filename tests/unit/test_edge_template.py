"""The edge in template.yaml: one origin for the web client and the API, what is cached, the browser's security
headers, the API reachable through the distribution only, and access logs without tokens."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from reckoning_local.template import load_document

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_document((ROOT / "template.yaml").read_text())
WAF = load_document((ROOT / "infra" / "edge" / "waf.yaml").read_text())
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
CONFIG: dict[str, Any] = RESOURCES["Distribution"]["Properties"]["DistributionConfig"]
BEHAVIORS = {b["PathPattern"]: b for b in CONFIG["CacheBehaviors"]}
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
API_FUNCTIONS = [
    key
    for key, resource in RESOURCES.items()
    if resource["Type"] == "AWS::Serverless::Function"
    and any(e["Type"] == "HttpApi" for e in resource["Properties"].get("Events", {}).values())
]


def _csp() -> dict[str, list[str]]:
    config = RESOURCES["SecurityHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]
    text = config["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    directives = [d.split() for d in text.split(";") if d.strip()]
    return {d[0]: d[1:] for d in directives}


def test_the_questionnaire_is_cached_as_its_cache_control_says_with_the_query_string_in_the_key() -> None:
    behavior = BEHAVIORS["/api/questionnaire"]
    assert behavior["CachePolicyId"] == {"Ref": "QuestionnaireCachePolicy"}
    policy = RESOURCES["QuestionnaireCachePolicy"]["Properties"]["CachePolicyConfig"]
    assert policy["MinTTL"] == policy["DefaultTTL"] == 0, "no Cache-Control from the API means not cached"
    key = policy["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["QueryStringsConfig"]["QueryStringBehavior"] == "all"
    assert key["CookiesConfig"]["CookieBehavior"] == "none"


@pytest.mark.parametrize("pattern", ["/api/report*", "/api/*"])
def test_report_routes_and_the_rest_of_the_api_are_never_cached_and_get_every_viewer_header(pattern: str) -> None:
    behavior = BEHAVIORS[pattern]
    assert behavior["TargetOriginId"] == "api"
    assert behavior["CachePolicyId"] == CACHING_DISABLED
    assert behavior["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST
    assert {"POST", "DELETE"} <= set(behavior["AllowedMethods"])


def test_the_specific_api_patterns_come_before_the_catch_all() -> None:
    patterns = [b["PathPattern"] for b in CONFIG["CacheBehaviors"]]
    assert patterns.index("/api/questionnaire") < patterns.index("/api/*")
    assert patterns.index("/api/report*") < patterns.index("/api/*")


def test_the_site_comes_from_a_private_bucket_only_this_distribution_reads() -> None:
    (site,) = [o for o in CONFIG["Origins"] if o["Id"] == CONFIG["DefaultCacheBehavior"]["TargetOriginId"]]
    assert site["OriginAccessControlId"] == {"Fn::GetAtt": ["SiteOriginAccessControl", "Id"]}
    blocked = RESOURCES["SiteBucket"]["Properties"]["PublicAccessBlockConfiguration"]
    assert all(blocked.values())
    statements = RESOURCES["SiteBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    assert "${Distribution}" in allow["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]


def test_every_behavior_adds_the_security_headers() -> None:
    behaviors = [CONFIG["DefaultCacheBehavior"], *CONFIG["CacheBehaviors"]]
    assert all(b["ResponseHeadersPolicyId"] == {"Ref": "SecurityHeadersPolicy"} for b in behaviors)
    config = RESOURCES["SecurityHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert config["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"
    assert config["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert config["ContentTypeOptions"]["Override"] is True
    assert config["FrameOptions"]["FrameOption"] == "DENY"


def test_the_content_security_policy_allows_no_inline_script_framing_or_foreign_forms() -> None:
    csp = _csp()
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["form-action"] == ["'self'", "https://checkout.stripe.com"]
    everything = " ".join(value for values in csp.values() for value in values)
    assert "unsafe" not in everything
    assert "*" not in everything


def test_the_api_answers_the_distribution_only_through_a_header_from_a_secret() -> None:
    (api,) = [o for o in CONFIG["Origins"] if o["Id"] == "api"]
    (header,) = api["OriginCustomHeaders"]
    assert header["HeaderName"] == "X-Origin-Verify"
    assert header["HeaderValue"] == {"Fn::Sub": "{{resolve:secretsmanager:${OriginVerifySecretArn}:SecretString}}"}
    assert api["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert sorted(API_FUNCTIONS) == ["CheckoutFunction", "ReportFunction", "SubmitFunction"]
    for function in API_FUNCTIONS:
        properties = RESOURCES[function]["Properties"]
        assert properties["Environment"]["Variables"]["ORIGIN_VERIFY_SECRET_ARN"] == {"Ref": "OriginVerifySecretArn"}
        readable = [
            p["AWSSecretsManagerGetSecretValuePolicy"]["SecretArn"]
            for p in properties["Policies"]
            if "AWSSecretsManagerGetSecretValuePolicy" in p
        ]
        assert {"Ref": "OriginVerifySecretArn"} in readable


def test_the_webhook_stays_on_its_function_url_not_behind_the_distribution() -> None:
    patterns = [b["PathPattern"] for b in CONFIG["CacheBehaviors"]]
    assert not any(p.startswith("/webhooks") for p in patterns)
    assert "FunctionUrlConfig" in RESOURCES["WebhookFunction"]["Properties"]


def test_access_logs_name_the_route_never_the_path() -> None:
    settings = RESOURCES["HttpApi"]["Properties"]["AccessLogSettings"]
    fields = set(re.findall(r"\$context\.[\w.]+", settings["Format"]))
    assert {"$context.routeKey", "$context.status", "$context.requestId", "$context.responseLatency"} <= fields
    assert not {f for f in fields if "path" in f.lower() or "identity" in f.lower()}


def test_the_web_acl_limits_each_client_ip_at_the_edge_and_feeds_the_distribution() -> None:
    (acl,) = [r for r in WAF["Resources"].values() if r["Type"] == "AWS::WAFv2::WebACL"]
    assert acl["Properties"]["Scope"] == "CLOUDFRONT"
    limits = [
        r["Statement"]["RateBasedStatement"]
        for r in acl["Properties"]["Rules"]
        if "RateBasedStatement" in r["Statement"]
    ]
    assert limits
    assert all(limit["AggregateKeyType"] == "IP" for limit in limits)
    assert set(WAF["Outputs"]) == {"WebAclArn"}
    assert CONFIG["WebACLId"] == {"Fn::If": ["HasWebAcl", {"Ref": "WebAclArn"}, {"Ref": "AWS::NoValue"}]}


def test_outputs_name_the_site_its_bucket_and_its_distribution() -> None:
    assert {"SiteUrl", "SiteBucketName", "DistributionId"} <= set(TEMPLATE["Outputs"])
