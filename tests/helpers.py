"""Shared test helpers: loading function modules as Lambda does, building events, counting rows."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

import psycopg

from reckoning import bootstrap, config
from reckoning.dependencies import Dependencies
from reckoning.domain import generate, links
from reckoning.models.job import GenerateJob, Job, LinksJob
from reckoning.ports import Mailer, ObjectStore, Render, Writer
from reckoning.questionnaires import Questionnaires
from reckoning_local.events import LambdaContext, http_event
from reckoning_local.loader import import_file

ROOT = Path(__file__).resolve().parents[1]


class Env(Protocol):
    """The `env` fixture: set (or, with None, unset) environment variables for one test."""

    def __call__(self, **values: str | None) -> None: ...


SAMPLE_ANSWERS: dict[str, Any] = {
    "life_overall": 6,
    "one_sentence": "Busy and mostly fine on paper, but I feel like I am drifting.",
    "focus_areas": ["work", "health", "relationships"],
    "work_satisfaction": 4,
    "health_energy": 5,
    "money_situation": "stable",
    "hours_for_yourself": 3,
    "relationships_state": "My partner Sam and I are kind but distant; we talk about logistics, not us.",
    "proud_of": "I finished the half marathon in April after a year of training around a full-time job.",
    "avoiding": "Telling my manager I want to move to the product team. It costs me energy every single week.",
    "change_one_thing": "Move into product work, because I light up when I talk to users and dread the rest.",
    "main_obstacle": "fear",
    "support": "My old mentor Priya, who made the same move three years ago.",
}


def submission(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "email": "ada@example.com",
        "name": "Ada",
        "answers": dict(SAMPLE_ANSWERS),
        "consent": True,
    }
    body.update(overrides)
    return body


def load_function(name: str) -> ModuleType:
    """Import functions/<name>/app.py under a unique module name, as a fresh Lambda would."""
    return import_file(ROOT / "functions" / name / "app.py", f"reckoning_fn_{name}")


def invoke(
    function: str,
    method: str,
    path: str,
    route_key: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    path_parameters: dict[str, str] | None = None,
    source_ip: str = "203.0.113.7",
) -> tuple[int, dict[str, str], Any]:
    """Call a function's handler with an HTTP API event; return (status, headers, parsed body)."""
    raw = json.dumps(body) if body is not None and not isinstance(body, str | bytes) else body
    all_headers = {"content-type": "application/json"} if raw is not None else {}
    all_headers.update(headers or {})
    event = http_event(
        method,
        path,
        route_key=route_key,
        path_parameters=path_parameters,
        headers=all_headers,
        body=raw,
        source_ip=source_ip,
    )
    response = load_function(function).lambda_handler(event, LambdaContext(function_name=function))
    payload = response.get("body")
    parsed = (
        json.loads(payload)
        if payload and response["headers"].get("Content-Type", "").startswith("application/json")
        else payload
    )
    return response["statusCode"], response["headers"], parsed


def without_request_id(body: Any) -> Any:
    """An error body as it reads for every request alike: without `error.requestId`, the one part that is the
    request's own (two answers are "one identical body" when they are equal but for it)."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return {**body, "error": {k: v for k, v in body["error"].items() if k != "requestId"}}
    return body


def count(conn: psycopg.Connection[Any], table: str) -> int:
    row = conn.execute(psycopg.sql.SQL("SELECT count(*) AS n FROM {}").format(psycopg.sql.Identifier(table))).fetchone()
    assert row is not None
    return int(row["n"] if isinstance(row, dict) else row[0])


# ---------------------------------------------------------------- finding a person's data anywhere it is stored


def text_and_json_columns(conn: psycopg.Connection[Any]) -> list[tuple[str, str]]:
    """(table, column) of every text and JSON column of every table, read from the catalog: a table added later
    is scanned with no edit here."""
    rows = conn.execute(
        "SELECT c.table_name, c.column_name FROM information_schema.columns c"
        " JOIN information_schema.tables t USING (table_schema, table_name)"
        " WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'"
        " AND c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY')"
        " ORDER BY 1, 2"
    ).fetchall()
    return [(row["table_name"], row["column_name"]) if isinstance(row, dict) else (row[0], row[1]) for row in rows]


def found_in_database(conn: psycopg.Connection[Any], needles: list[str]) -> list[str]:
    """`table.column: needle` for every needle found (case-insensitively) in any text or JSON column."""
    hits = []
    for table, column in text_and_json_columns(conn):
        query = psycopg.sql.SQL("SELECT count(*) FROM {} WHERE strpos(lower({}::text), lower(%s)) > 0").format(
            psycopg.sql.Identifier(table), psycopg.sql.Identifier(column)
        )
        for needle in needles:
            row = conn.execute(query, (needle,)).fetchone()
            assert row is not None
            if (row["count"] if isinstance(row, dict) else row[0]) > 0:
                hits.append(f"{table}.{column}: {needle}")
    return hits


def found_in_bucket(s3: Any, bucket: str, needles: list[str]) -> list[str]:
    """`key: needle` for every needle found in any object of the bucket, every version (a PDF by its text)."""
    import io

    from pypdf import PdfReader

    hits = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for version in page.get("Versions", []):
            body = s3.get_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])["Body"].read()
            if body.startswith(b"%PDF"):
                text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages)
            else:
                text = body.decode(errors="replace")
            hits += [f"{version['Key']}: {needle}" for needle in needles if needle.lower() in text.lower()]
    return hits


# ------------------------------------------------------------------------------------------- the domain's wiring


def with_fakes(
    writer: Writer | None = None,
    mailer: Mailer | None = None,
    store: ObjectStore | None = None,
    render: Render | None = None,
    questionnaires: Questionnaires | None = None,
    **others: Any,
) -> Dependencies:
    """The dependencies the environment describes (offline stand-ins unless a test sets keys), with the given
    collaborators in place of theirs. Build them once the test's database is set (a fixture asks for
    `database_url` first): they keep the database they were built with, as a function's do."""
    given: dict[str, Any] = {"writer": writer, "mailer": mailer, "store": store, "render": render}
    given |= {"questionnaires": questionnaires, **others}
    return replace(bootstrap.dependencies(), **{k: v for k, v in given.items() if v is not None})


def generate_report(
    job: GenerateJob,
    deps: Dependencies,
    *,
    final_receive: bool = False,
    retry_in_s: int = 0,
    deadline: float | None = None,
) -> generate.Outcome:
    """One report job, as the generate function runs it on that receive of its message: under the policy the
    environment describes now (a test may change a setting after building its collaborators)."""
    current = replace(deps, policy=bootstrap.policy(config.settings()))
    return generate.generate(current, job, generate.Delivery(1, final_receive, retry_in_s, deadline))


def handle_job(job: Job, deps: Dependencies) -> str:
    """One queue message, dispatched on its kind as the generate function does."""
    if isinstance(job, LinksJob):
        links.send_links(deps, job)
        return "links_sent"
    return generate_report(job, deps)


def bucket_store() -> ObjectStore:
    """The report bucket the environment names (moto's, in the integration tests)."""
    return bootstrap.dependencies().store
