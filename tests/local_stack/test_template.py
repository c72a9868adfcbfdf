"""The template reader: CloudFormation tags, local resolution, and what each function is wired to."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from reckoning_local import template as tpl
from reckoning_local.stack import local_environment

ROOT = Path(__file__).resolve().parents[2]
ENDPOINT = "http://127.0.0.1:5999"


def parse(text: str, parameters: dict[str, str] | None = None) -> tpl.Template:
    return tpl.load(ROOT / "inline.yaml", text=textwrap.dedent(text), parameters=parameters, endpoint_url=ENDPOINT)


# ---------------------------------------------------------------- YAML tags and intrinsic functions


def test_short_form_tags_become_their_long_forms() -> None:
    document = tpl.load_document(
        textwrap.dedent("""
        Resources: {}
        a: !Ref Stage
        b: !Sub "x-${Stage}"
        c: !GetAtt Queue.Arn
        d: !GetAtt [Queue, QueueName]
        e: !If [IsProd, 1, 2]
        f: !Not [!Equals [!Ref Stage, prod]]
        g: !Select [0, [a, b]]
        """)
    )

    assert document == {
        "Resources": {},
        "a": {"Ref": "Stage"},
        "b": {"Fn::Sub": "x-${Stage}"},
        "c": {"Fn::GetAtt": ["Queue", "Arn"]},
        "d": {"Fn::GetAtt": ["Queue", "QueueName"]},
        "e": {"Fn::If": ["IsProd", 1, 2]},
        "f": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Stage"}, "prod"]}]},
        "g": {"Fn::Select": [0, ["a", "b"]]},
    }


@pytest.mark.parametrize(
    "value",
    ['!Join ["-", [a, b]]', "!Select [0, [a, b]]", "!ImportValue shared-vpc", "!Nonsense x", "!Base64 hi"],
)
def test_an_intrinsic_function_the_template_does_not_use_fails_loudly(value: str) -> None:
    with pytest.raises(tpl.TemplateError, match=r"not understood locally .*template\.py"):
        parse(f"""
        Resources:
          F:
            Type: AWS::Serverless::Function
            Properties:
              Handler: app.h
              CodeUri: .
              Environment:
                Variables:
                  X: {value}
        """)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: [unclosed", "not a YAML template"),
        ("- a list", "a mapping with Resources"),
        ("Resources:\n  F: {Type: AWS::Serverless::Function, Properties: {CodeUri: .}}", "F: no Handler"),
        (
            "Resources:\n  F: {Type: AWS::Serverless::Function, Properties: {Handler: a.h, CodeUri: {Bucket: b}}}",
            "F: CodeUri must be a local folder",
        ),
        (
            "Resources:\n  F: {Type: AWS::Serverless::Function, Properties: {Handler: a.h, CodeUri: .,"
            " Environment: {Variables: {T: !Ref Topic}}}}\n  Topic: {Type: AWS::SNS::Topic}",
            "Ref Topic: a AWS::SNS::Topic has no local counterpart",
        ),
        (
            "Resources:\n  F: {Type: AWS::Serverless::Function, Properties: {Handler: a.h, CodeUri: .,"
            " Events: {E: {Type: HttpApi, Properties: {Path: /x, Method: ANY}}}}}",
            "F.E: ANY and greedy",
        ),
        (
            "Resources:\n  F: {Type: AWS::Serverless::Function, Properties: {Handler: a.h, CodeUri: .,"
            " Events: {E: {Type: HttpApi, Properties: {Path: '/files/{path+}', Method: GET}}}}}",
            "F.E: ANY and greedy",
        ),
    ],
)
def test_a_template_the_local_tools_cannot_read_is_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(tpl.TemplateError, match=message):
        tpl.load(ROOT / "inline.yaml", text=text)


# ---------------------------------------------------------------- the real template.yaml


@pytest.fixture(scope="module")
def real() -> tpl.Template:
    return tpl.load(ROOT / "template.yaml", endpoint_url=ENDPOINT)


def test_every_function_of_the_real_template_has_an_importable_source_file(real: tpl.Template) -> None:
    assert real.functions
    for fn in real.functions.values():
        assert fn.source_file.is_file(), fn.logical_id
        assert fn.attribute == "lambda_handler"


def test_the_real_template_routes_the_http_contract(real: tpl.Template) -> None:
    owners = {route.route_key: fn.logical_id for route, fn in real.routes()}

    assert owners["GET /api/questionnaire"] == "SubmitFunction"
    assert owners["POST /api/reckoning"] == "SubmitFunction"
    assert owners["GET /api/report/{token}"] == "ReportFunction"
    assert len(owners) == len(real.routes()), "two functions claim the same route"


def test_the_real_template_serves_the_stripe_webhook_function_url_locally(real: tpl.Template) -> None:
    urls = {fn.url_path: fn.logical_id for fn in real.functions.values() if fn.url_path is not None}

    assert "/webhooks/stripe" in urls


def test_globals_are_merged_into_each_function(real: tpl.Template) -> None:
    submit = real.function("SubmitFunction")

    assert (submit.timeout_s, submit.memory_mb) == (10, 512)
    assert submit.code_dir == ROOT / "functions" / "submit"
    assert submit.environment["POWERTOOLS_SERVICE_NAME"] == "reckoning"
    assert submit.environment["CORS_ORIGIN"] == "https://reckoning.example.com"


def test_secret_arns_and_unset_conditions_resolve_to_nothing_locally(real: tpl.Template) -> None:
    submit = real.function("SubmitFunction")

    assert "DATABASE_SECRET_ARN" not in submit.environment  # a parameter without a default
    assert "DATABASE_SECRET_ARN" in submit.dropped_environment
    assert "DATABASE_HOST" not in submit.environment  # !If false → AWS::NoValue


def test_a_parameter_override_flows_through_conditions(real: tpl.Template) -> None:
    overridden = tpl.load(ROOT / "template.yaml", parameters={"DatabaseHost": "proxy.local"}, endpoint_url=ENDPOINT)

    assert overridden.function("SubmitFunction").environment["DATABASE_HOST"] == "proxy.local"


def test_the_http_api_cors_configuration_is_read(real: tpl.Template) -> None:
    cors = real.cors["HttpApi"]

    assert cors.allow_origins == ("https://reckoning.example.com",)
    assert "POST" in cors.allow_methods
    assert "content-type" in cors.allow_headers


def test_functions_are_found_by_a_unique_prefix(real: tpl.Template) -> None:
    assert real.function("submit").logical_id == "SubmitFunction"
    with pytest.raises(KeyError):
        real.function("nope")


# ---------------------------------------------------------------- SQS, buckets, environment


QUEUES = """
Parameters:
  Stage: {Type: String, Default: dev}
  StripeKeyArn: {Type: String}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Resources:
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub jobs-${Stage}
      VisibilityTimeout: 90
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt JobsDlq.Arn
        maxReceiveCount: 4
  JobsDlq:
    Type: AWS::SQS::Queue
  Files:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub files-${Stage}-${AWS::AccountId}
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/worker
      Handler: handlers.main.run
      Environment:
        Variables:
          QUEUE_URL: !Ref Jobs
          QUEUE_ARN: !GetAtt Jobs.Arn
          BUCKET: !Ref Files
          BUCKET_ARN: !GetAtt Files.Arn
          STAGE_LABEL: !Sub stage-${Stage}
          ONLY_IN_PROD: !If [IsProd, "yes", !Ref AWS::NoValue]
          STRIPE_SECRET_KEY_ARN: !Ref StripeKeyArn
          RETRIES: 3
          VERBOSE: true
      Events:
        Batch:
          Type: SQS
          Properties:
            Queue: !GetAtt Jobs.Arn
            BatchSize: 5
            FunctionResponseTypes: [ReportBatchItemFailures]
"""


def test_queues_keep_their_visibility_timeout_and_redrive_policy() -> None:
    template = parse(QUEUES)
    jobs, dlq = template.queues["Jobs"], template.queues["JobsDlq"]

    assert jobs.name == "jobs-dev"
    assert jobs.url == f"{ENDPOINT}/123456789012/jobs-dev"
    assert jobs.arn == "arn:aws:sqs:eu-west-1:123456789012:jobs-dev"
    assert jobs.visibility_timeout_s == 90
    assert (jobs.dead_letter_queue, jobs.max_receive_count) == ("JobsDlq", 4)
    assert dlq.name == "reckoning-local-JobsDlq"  # no QueueName: a generated one
    assert dlq.dead_letter_queue is None


def test_an_sqs_event_is_an_event_source_mapping_on_its_queue() -> None:
    (source,) = parse(QUEUES).function("Worker").sqs_sources

    assert source == tpl.SqsSource(queue="Jobs", batch_size=5, report_batch_item_failures=True)


def test_environment_values_resolve_to_local_resources() -> None:
    env = parse(QUEUES).function("Worker").environment

    assert env["QUEUE_URL"] == f"{ENDPOINT}/123456789012/jobs-dev"
    assert env["QUEUE_ARN"] == "arn:aws:sqs:eu-west-1:123456789012:jobs-dev"
    assert env["BUCKET"] == "files-dev-123456789012"
    assert env["BUCKET_ARN"] == "arn:aws:s3:::files-dev-123456789012"
    assert env["STAGE_LABEL"] == "stage-dev"
    assert (env["RETRIES"], env["VERBOSE"]) == ("3", "true")


def test_unresolvable_values_are_dropped_and_no_value_disappears() -> None:
    worker = parse(QUEUES).function("Worker")

    assert "ONLY_IN_PROD" not in worker.environment
    assert "ONLY_IN_PROD" not in worker.dropped_environment  # NoValue is intended, not a failure
    assert worker.dropped_environment == ("STRIPE_SECRET_KEY_ARN",)


def test_parameters_can_be_overridden() -> None:
    template = parse(QUEUES, parameters={"Stage": "prod", "StripeKeyArn": "arn:aws:secretsmanager:x"})
    env = template.function("Worker").environment

    assert template.buckets["Files"].name == "files-prod-123456789012"
    assert env["ONLY_IN_PROD"] == "yes"
    assert env["STRIPE_SECRET_KEY_ARN"] == "arn:aws:secretsmanager:x"


def test_a_dotted_handler_points_into_a_package_of_the_code_directory() -> None:
    worker = parse(QUEUES).function("Worker")

    assert (worker.module, worker.attribute) == ("handlers.main", "run")
    assert worker.source_file == ROOT / "functions" / "worker" / "handlers" / "main.py"


def test_sub_reads_parameters_pseudo_parameters_attributes_and_literals() -> None:
    template = parse("""
    Parameters:
      Stage: {Type: String, Default: dev}
    Resources:
      Q: {Type: AWS::SQS::Queue, Properties: {QueueName: q}}
      F:
        Type: AWS::Serverless::Function
        Properties:
          Handler: app.h
          CodeUri: .
          Environment:
            Variables:
              A: !Sub "${Stage}-${AWS::Region}"
              B: !Sub "${Q.QueueName} costs ${!Literal}"
    """)

    assert template.function("F").environment == {"A": "dev-eu-west-1", "B": "q costs ${Literal}"}


def test_globals_merge_as_sam_merges_them() -> None:
    template = parse("""
    Globals:
      Function:
        Timeout: 10
        Layers: [!Ref Shared]
        Environment: {Variables: {A: global, B: global}}
    Resources:
      Shared: {Type: AWS::Serverless::LayerVersion, Properties: {ContentUri: shared/}}
      Own: {Type: AWS::Serverless::LayerVersion, Properties: {ContentUri: own/}}
      F:
        Type: AWS::Serverless::Function
        Properties:
          Handler: app.h
          CodeUri: .
          Timeout: 20
          Layers: [!Ref Own, "arn:aws:lambda:eu-west-1:017000801446:layer:Elsewhere:7"]
          Environment: {Variables: {B: own}}
    """)
    fn = template.function("F")

    assert fn.timeout_s == 20, "a scalar of the function replaces the global one"
    assert fn.environment == {"A": "global", "B": "own"}, "maps merge key by key"
    assert fn.layers == ("Shared", "Own"), "lists append; a layer by ARN is not the template's to build"
    assert template.layers["Own"].content_dir == ROOT / "own"


# ---------------------------------------------------------------- routes, URLs, schedules


EVENTS = """
Resources:
  Api:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.h
      CodeUri: .
      Events:
        Get: {Type: HttpApi, Properties: {Path: "/items/{id}", Method: get}}
        Post: {Type: HttpApi, Properties: {Path: "/items", Method: POST}}
  Hook:
    Type: AWS::Serverless::Function
    Metadata: {LocalUrlPath: /webhooks/stripe/}
    Properties:
      Handler: app.h
      CodeUri: .
      FunctionUrlConfig: {AuthType: NONE}
  Other:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.h
      CodeUri: .
      FunctionUrlConfig: {AuthType: NONE}
      Events:
        Every5: {Type: ScheduleV2, Properties: {ScheduleExpression: rate(5 minutes)}}
        Nightly: {Type: ScheduleV2, Properties: {ScheduleExpression: "cron(0 3 * * ? *)"}}
"""


def test_http_api_events_become_routes_with_api_gateway_route_keys() -> None:
    routes = [route.route_key for route in parse(EVENTS).function("Api").routes]

    assert routes == ["GET /items/{id}", "POST /items"]


def test_function_urls_are_served_at_their_local_path_or_a_default_one() -> None:
    template = parse(EVENTS)

    assert template.function("Hook").url_path == "/webhooks/stripe"
    assert template.function("Other").url_path == "/_lambda-url/Other"
    assert template.function("Api").url_path is None


def test_rate_schedules_know_their_period_and_others_run_only_on_demand() -> None:
    schedules = {s.event_name: s.period_s for s in parse(EVENTS).function("Other").schedules}

    assert schedules == {"Every5": 300, "Nightly": None}


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [("rate(1 minute)", 60), ("rate(10 minutes)", 600), ("rate(2 hours)", 7200), ("rate(1 day)", 86400)],
)
def test_rate_expressions_are_read_in_seconds(expression: str, seconds: int) -> None:
    assert tpl.rate_seconds(expression) == seconds


# ---------------------------------------------------------------- one process, one environment


def _function(name: str, **environment: str) -> tpl.Function:
    return tpl.Function(name, name, ROOT, "app.h", 3, 128, environment)


LOCAL = {"ENVIRONMENT": "local", "AWS_ENDPOINT_URL": "http://127.0.0.1:5999", "AWS_ACCESS_KEY_ID": "testing"}


def test_function_environments_are_merged_and_a_conflict_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    functions = [_function("A", SHARED="1", ONLY_A="a"), _function("B", SHARED="2", ONLY_B="b")]

    environment = local_environment(functions, local={}, caller={})

    assert environment == {"SHARED": "1", "ONLY_A": "a", "ONLY_B": "b"}
    assert "SHARED differs between functions" in caplog.text


def test_production_only_variables_are_dropped() -> None:
    functions = [
        _function(
            "A",
            DATABASE_SECRET_ARN="arn:aws:secretsmanager:eu-west-1:1:secret:db",
            STRIPE_WEBHOOK_SECRET_ARN="arn:x",
            ANTHROPIC_API_KEY_ARN="arn:aws:secretsmanager:eu-west-1:1:secret:anthropic",
            DATABASE_HOST="proxy.rds.amazonaws.com",
            KEEP="yes",
        )
    ]

    assert local_environment(functions, local={}, caller={}) == {"KEEP": "yes"}


def test_local_values_override_the_template_and_the_caller_overrides_both() -> None:
    functions = [_function("A", ENVIRONMENT="production", RATE_LIMIT_SUBMIT="10")]
    caller = {"RATE_LIMIT_SUBMIT": "2", "ENVIRONMENT": "test", "UNRELATED": "x"}

    environment = local_environment(functions, local=LOCAL, caller=caller)

    assert environment["ENVIRONMENT"] == "test"
    assert environment["RATE_LIMIT_SUBMIT"] == "2"
    assert "UNRELATED" not in environment  # already in the process environment; not the stack's to set


def test_the_aws_endpoint_and_credentials_stay_local_whatever_the_caller_has() -> None:
    caller = {"AWS_ENDPOINT_URL": "https://sqs.eu-west-1.amazonaws.com", "AWS_ACCESS_KEY_ID": "AKIAREAL"}

    environment = local_environment([], local=LOCAL, caller=caller)

    assert environment["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5999"
    assert environment["AWS_ACCESS_KEY_ID"] == "testing"
