"""The OpenAPI document is generated from the code and committed; these tests catch drift."""

import json
from collections.abc import Iterator
from typing import Any

from openapi_spec_validator import validate

from reckoning_local.openapi import COMMITTED, document, render


def operations(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for ops in doc["paths"].values() for op in ops.values()]


def test_the_committed_document_matches_the_code() -> None:
    assert COMMITTED.read_text() == render(), "run `make openapi` and commit docs/openapi.json"


def test_the_document_is_valid_openapi_3_1() -> None:
    validate(json.loads(COMMITTED.read_text()))


def test_every_http_route_of_the_template_is_documented_and_the_webhook_is_stripes() -> None:
    doc = document()
    assert set(doc["paths"]) == {
        "/api/questionnaire",
        "/api/reckoning",
        "/api/checkout",
        "/api/report/{token}",
        "/api/report/{token}/pdf",
        "/api/report/{token}/export",
        "/api/report/links",
    }
    assert list(doc["webhooks"]) == ["stripeEvent"]
    assert doc["webhooks"]["stripeEvent"]["post"]["operationId"] == "receiveStripeEvent"
    assert doc["servers"][0]["url"] == "/"  # relative: the origin that served the document


def test_every_operation_has_a_stable_id() -> None:
    ids = {(method, path): op["operationId"] for path, ops in document()["paths"].items() for method, op in ops.items()}
    assert ids == {
        ("get", "/api/questionnaire"): "getQuestionnaire",
        ("post", "/api/reckoning"): "submitReckoning",
        ("post", "/api/checkout"): "startCheckout",
        ("get", "/api/report/{token}"): "getReport",
        ("get", "/api/report/{token}/pdf"): "getReportPdf",
        ("get", "/api/report/{token}/export"): "exportReport",
        ("delete", "/api/report/{token}"): "eraseReport",
        ("post", "/api/report/links"): "requestReportLinks",
    }


def all_operations(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [*operations(doc), *(op for ops in doc["webhooks"].values() for op in ops.values())]


def codes_of(doc: dict[str, Any], response: dict[str, Any]) -> list[str]:
    ref = response["content"]["application/json"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return list(schema["properties"]["error"]["properties"]["code"]["enum"])


def test_each_route_lists_only_its_own_error_codes_with_their_status() -> None:
    doc = document()
    table = {
        op["operationId"]: {int(s): codes_of(doc, r) for s, r in op["responses"].items() if int(s) >= 400}
        for op in all_operations(doc)
    }
    guarded = {
        400: ["VALIDATION_ERROR"],
        413: ["PAYLOAD_TOO_LARGE"],
        415: ["UNSUPPORTED_MEDIA_TYPE"],
        429: ["RATE_LIMITED"],
        500: ["INTERNAL_ERROR"],
    }
    database, token, conflict = {503: ["SERVICE_UNAVAILABLE"]}, {404: ["NOT_FOUND"]}, {409: ["CONFLICT"]}
    assert table == {
        "getQuestionnaire": guarded,
        "submitReckoning": guarded | conflict | database,
        "startCheckout": guarded | token | conflict | database,
        "getReport": guarded | token | database,
        "getReportPdf": guarded | token | conflict | database,
        "exportReport": guarded | token | database,
        "eraseReport": guarded | token | database,
        "requestReportLinks": guarded | database,
        "receiveStripeEvent": {
            400: ["INVALID_SIGNATURE", "VALIDATION_ERROR"],
            413: ["PAYLOAD_TOO_LARGE"],
            415: ["UNSUPPORTED_MEDIA_TYPE"],
            500: ["INTERNAL_ERROR"],
        },
    }


def test_the_error_code_is_an_enum_of_every_code_the_error_table_answers() -> None:
    from reckoning.http import ERROR_TABLE

    schemas = document()["components"]["schemas"]
    assert set(schemas["ErrorCode"]["enum"]) == {code for _, code in ERROR_TABLE.values()}
    body = schemas["ErrorBody"]
    assert body["properties"]["code"] == {"$ref": "#/components/schemas/ErrorCode"}
    assert "requestId" in body["required"]


def test_validation_errors_are_documented_as_our_400_envelope_not_422() -> None:
    doc = document()
    for operation in all_operations(doc):
        assert "422" not in operation["responses"]
        error = operation["responses"]["400"]["content"]["application/json"]["schema"]
        assert error["$ref"] in {
            "#/components/schemas/ValidationError",
            "#/components/schemas/InvalidSignatureOrValidationError",
        }
    validation = doc["components"]["schemas"]["ValidationError"]
    assert set(validation["properties"]) == {"success", "error"}
    assert set(validation["properties"]["error"]["required"]) == {"code", "message", "requestId"}
    assert "details" in validation["properties"]["error"]["properties"]


def test_every_answer_declares_its_request_id_and_the_headers_it_carries() -> None:
    doc = document()
    for operation in all_operations(doc):
        for status, response in operation["responses"].items():
            assert response["headers"]["X-Request-Id"] == {"$ref": "#/components/headers/X-Request-Id"}, status
    paths = doc["paths"]
    report = paths["/api/report/{token}"]["get"]
    assert {"Retry-After", "ETag"} <= set(report["responses"]["200"]["headers"])
    assert "ETag" in report["responses"]["304"]["headers"]
    assert [p["name"] for p in report["parameters"] if p["in"] == "header"] == ["If-None-Match"]
    for path, status in (("/api/reckoning", "201"), ("/api/checkout", "200")):
        operation = paths[path]["post"]
        assert "Idempotent-Replayed" in operation["responses"][status]["headers"]
        assert "Retry-After" in operation["responses"]["409"]["headers"]
        assert "Idempotency-Key" in [p["name"] for p in operation["parameters"]]
    assert "Location" in paths["/api/report/{token}/pdf"]["get"]["responses"]["302"]["headers"]
    for operation in all_operations(doc):
        for status in ("429", "503"):
            if status in operation["responses"]:
                assert "Retry-After" in operation["responses"][status]["headers"]
    assert doc["components"]["headers"]["X-Request-Id"]["required"] is True


def test_the_report_status_is_one_schema_per_status() -> None:
    schemas = document()["components"]["schemas"]
    union = schemas["ReportStatus"]
    shapes = {status: ref.rsplit("/", 1)[1] for status, ref in union["discriminator"]["mapping"].items()}
    assert union["discriminator"]["propertyName"] == "status"
    assert len(union["oneOf"]) == len(shapes) == 7
    required = {status: set(schemas[name]["required"]) for status, name in shapes.items()}
    for waiting in ("awaiting_payment", "paid", "generating"):
        assert required[waiting] == {"status", "retryAfterSeconds"}
    assert required["ready"] == {"status", "report", "confidence", "pdfUrl"}
    assert required["failed"] == {"status", "message", "error"}
    assert required["needs_review"] == required["refunded"] == {"status", "message"}
    for status, name in shapes.items():
        assert schemas[name]["properties"]["status"]["const"] == status


def test_no_schema_mixes_types_in_an_enum() -> None:
    def walk(node: Any) -> Iterator[list[Any]]:
        if isinstance(node, dict):
            if "enum" in node:
                yield node["enum"]
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    for enum in walk(document()):
        assert len({type(value) for value in enum}) == 1, enum


def test_bodies_use_the_wire_names() -> None:
    submit = document()["components"]["schemas"]["SubmitRequest"]
    assert {"email", "name", "questionnaireVersion", "answers", "consent"} == set(submit["properties"])


def test_the_webhook_documents_what_stripe_sends() -> None:
    webhook = document()["webhooks"]["stripeEvent"]["post"]
    assert webhook["parameters"][0]["name"] == "Stripe-Signature"
    assert webhook["parameters"][0]["required"] is True
    assert "application/json" in webhook["requestBody"]["content"]
