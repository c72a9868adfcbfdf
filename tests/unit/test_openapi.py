"""The OpenAPI document is generated from the code and committed; these tests catch drift."""

import json
from typing import Any

from openapi_spec_validator import validate

from reckoning_local.openapi import COMMITTED, document, render


def operations(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for ops in doc["paths"].values() for op in ops.values()]


def test_the_committed_document_matches_the_code() -> None:
    assert COMMITTED.read_text() == render(), "run `make openapi` and commit docs/openapi.json"


def test_the_document_is_valid_openapi_3_1() -> None:
    validate(json.loads(COMMITTED.read_text()))


def test_every_http_route_of_the_template_is_documented() -> None:
    assert set(document()["paths"]) == {
        "/api/questionnaire",
        "/api/reckoning",
        "/api/checkout",
        "/webhooks/stripe",
        "/api/report/{token}",
        "/api/report/{token}/pdf",
        "/api/report/{token}/export",
        "/api/report/links",
    }


def test_validation_errors_are_documented_as_our_400_envelope_not_422() -> None:
    doc = document()
    for operation in operations(doc):
        assert "422" not in operation["responses"]
        error = operation["responses"]["400"]["content"]["application/json"]["schema"]
        assert error == {"$ref": "#/components/schemas/ErrorEnvelope"}
    assert set(doc["components"]["schemas"]["ErrorEnvelope"]["properties"]) == {"success", "error"}


def test_bodies_use_the_wire_names() -> None:
    submit = document()["components"]["schemas"]["SubmitRequest"]
    assert {"email", "name", "questionnaireVersion", "answers", "consent"} == set(submit["properties"])


def test_the_webhook_documents_what_stripe_sends() -> None:
    webhook = document()["paths"]["/webhooks/stripe"]["post"]
    assert webhook["parameters"][0]["name"] == "Stripe-Signature"
    assert webhook["parameters"][0]["required"] is True
    assert "application/json" in webhook["requestBody"]["content"]
