"""The one reader of `template.yaml`, for the local stack and the Lambda builder.

Short-form tags (`!Ref`, `!Sub`, …) load as their long forms; `Globals.Function`
merges into each function as SAM merges it; values resolve as they would in a
deployed stack, except that queues and buckets resolve to their local (moto)
counterparts. Only the intrinsic functions the template uses are understood
(Ref, Fn::Sub, Fn::GetAtt, Fn::If, Fn::Not, Fn::Equals); any other is a
TemplateError where its value is read. A parameter without a default (a secret's
ARN) has no local value: an environment variable set from it is dropped.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger("reckoning_local")

ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "eu-west-1"
STACK_NAME = "reckoning-local"
DEFAULT_ENDPOINT = "http://127.0.0.1:4566"
FUNCTION = "AWS::Serverless::Function"
LAYER = "AWS::Serverless::LayerVersion"
QUEUE = "AWS::SQS::Queue"
BUCKET = "AWS::S3::Bucket"


class TemplateError(ValueError):
    """The template says something the local tools do not understand."""


class Unresolvable(TemplateError):
    """The value has no local meaning (a parameter without a default)."""


# ---------------------------------------------------------------- YAML with CloudFormation tags


class _Loader(yaml.SafeLoader):
    """SafeLoader that reads every `!Name` tag as its long form (`{"Fn::Name": …}`, `{"Ref": …}`)."""


def _long_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    if name == "Fn::GetAtt" and isinstance(value, str):  # `!GetAtt Queue.Arn` → ["Queue", "Arn"]
        value = value.split(".", 1)
    return {name: value}


_Loader.add_multi_constructor("!", _long_form)


def load_document(text: str) -> dict[str, Any]:
    """Template text as plain data, intrinsic functions in their long forms."""
    try:
        document = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise TemplateError(f"not a YAML template: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise TemplateError("a template must be a mapping with Resources")
    return document


# ---------------------------------------------------------------- what the template declares


@dataclass(frozen=True, slots=True)
class HttpRoute:
    method: str  # upper case
    path: str  # "/api/report/{token}"
    api_id: str = ""  # logical id of its HttpApi ("" = the implicit one)

    @property
    def route_key(self) -> str:
        """`requestContext.routeKey` exactly as API Gateway sets it."""
        return f"{self.method} {self.path}"


@dataclass(frozen=True, slots=True)
class SqsSource:
    queue: str  # logical id of the queue
    batch_size: int = 10
    report_batch_item_failures: bool = False
    maximum_concurrency: int | None = None  # ScalingConfig.MaximumConcurrency: invocations at once


@dataclass(frozen=True, slots=True)
class Schedule:
    """A ScheduleV2 event: `rate(...)` runs locally, anything else only on demand (`period_s` None)."""

    event_name: str
    expression: str
    period_s: float | None


@dataclass(frozen=True, slots=True)
class Function:
    logical_id: str
    name: str
    code_dir: Path
    handler: str  # "app.lambda_handler"
    timeout_s: int = 3
    memory_mb: int = 128
    environment: dict[str, str] = field(default_factory=dict)
    dropped_environment: tuple[str, ...] = ()
    runtime: str = ""
    architecture: str = "x86_64"
    layers: tuple[str, ...] = ()  # logical ids of the template's own layers, in order
    routes: tuple[HttpRoute, ...] = ()
    url_path: str | None = None  # its function URL, served locally at this path
    sqs_sources: tuple[SqsSource, ...] = ()
    schedules: tuple[Schedule, ...] = ()

    @property
    def module(self) -> str:
        return self.handler.rsplit(".", 1)[0]

    @property
    def attribute(self) -> str:
        return self.handler.rsplit(".", 1)[1]

    @property
    def source_file(self) -> Path:
        return self.code_dir / (self.module.replace(".", "/") + ".py")


@dataclass(frozen=True, slots=True)
class Layer:
    logical_id: str
    content_dir: Path


@dataclass(frozen=True, slots=True)
class Queue:
    logical_id: str
    name: str
    url: str
    arn: str
    visibility_timeout_s: int = 30
    dead_letter_queue: str | None = None  # logical id of the DLQ
    max_receive_count: int | None = None


@dataclass(frozen=True, slots=True)
class Bucket:
    logical_id: str
    name: str


@dataclass(frozen=True, slots=True)
class Cors:
    """An HTTP API's CorsConfiguration (API Gateway answers preflights itself)."""

    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None


@dataclass(frozen=True, slots=True)
class Template:
    path: Path
    region: str
    endpoint_url: str
    document: dict[str, Any]  # as written, long-form intrinsics (the builder rewrites it)
    functions: dict[str, Function] = field(default_factory=dict)
    layers: dict[str, Layer] = field(default_factory=dict)
    queues: dict[str, Queue] = field(default_factory=dict)
    buckets: dict[str, Bucket] = field(default_factory=dict)
    cors: dict[str, Cors] = field(default_factory=dict)  # by HttpApi logical id

    def function(self, name: str) -> Function:
        """A function by logical id, or by a case-insensitive prefix of it ("submit")."""
        if name in self.functions:
            return self.functions[name]
        matches = [f for key, f in self.functions.items() if key.lower().startswith(name.lower())]
        if len(matches) != 1:
            raise KeyError(f"no single function matches {name!r}; known: {', '.join(self.functions)}")
        return matches[0]

    def routes(self) -> list[tuple[HttpRoute, Function]]:
        return [(route, fn) for fn in self.functions.values() for route in fn.routes]


# ---------------------------------------------------------------- resolving values


NO_VALUE = object()  # `AWS::NoValue`: the property is removed
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")
_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_RATE_UNITS = {"minute": 60, "hour": 3600, "day": 86400}


class _Resolver:
    """Evaluates the template's intrinsic functions against its parameters and the local resources."""

    def __init__(self, document: Mapping[str, Any], parameters: Mapping[str, str], region: str, endpoint: str) -> None:
        self.document = document
        self.parameters = parameters
        self.region = region
        self.endpoint = endpoint
        self.resources: dict[str, Any] = document["Resources"]
        self.pseudo: dict[str, Any] = {
            "AWS::Region": region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": STACK_NAME,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": NO_VALUE,
        }
        self.intrinsics: dict[str, Callable[[Any], Any]] = {
            "Ref": self._ref,
            "Fn::Sub": self._sub,
            "Fn::GetAtt": lambda argument: self._get_att(*argument),
            "Fn::If": self._if,
            "Fn::Not": lambda argument: not self._boolean(argument[0]),
            "Fn::Equals": lambda argument: self.value(argument[0]) == self.value(argument[1]),
        }

    def value(self, node: Any) -> Any:
        """The resolved value; NO_VALUE for `AWS::NoValue`; Unresolvable when it has no local meaning."""
        if isinstance(node, dict) and len(node) == 1:
            ((key, argument),) = node.items()
            if key in self.intrinsics:
                return self.intrinsics[key](argument)
            if key == "Condition" or key.startswith("Fn::"):
                raise TemplateError(
                    f"{key} is not understood locally (only {', '.join(self.intrinsics)}): "
                    "teach it to infra/reckoning_local/template.py"
                )
        if isinstance(node, dict):
            return {k: v for k, v in ((k, self.value(v)) for k, v in node.items()) if v is not NO_VALUE}
        if isinstance(node, list):
            return [v for v in map(self.value, node) if v is not NO_VALUE]
        return node

    def text(self, node: Any) -> str:
        value = self.value(node)
        if value is NO_VALUE or isinstance(value, dict | list):
            raise TemplateError(f"{node!r} is not a string")
        return ("true" if value else "false") if isinstance(value, bool) else str(value)

    def _boolean(self, node: Any) -> bool:
        value = self.value(node)
        if not isinstance(value, bool):
            raise TemplateError(f"{node!r} is not a condition")
        return value

    def _ref(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        declared = (self.document.get("Parameters") or {}).get(name)
        if declared is not None:
            if "Default" not in declared:
                raise Unresolvable(f"parameter {name} has no default")
            return self.text(declared["Default"])
        kind = self.type_of(name)
        local = {QUEUE: self.queue_url, BUCKET: self.bucket_name, FUNCTION: self.function_name}
        if kind in local:
            return local[kind](name)
        raise TemplateError(f"Ref {name}: a {kind or 'missing resource'} has no local counterpart")

    def _get_att(self, logical_id: str, attribute: str) -> str:
        kind = self.type_of(logical_id)
        if kind == QUEUE and attribute in ("Arn", "QueueName"):
            return self.queue_arn(logical_id) if attribute == "Arn" else self.queue_name(logical_id)
        if kind == BUCKET and attribute == "Arn":
            return f"arn:aws:s3:::{self.bucket_name(logical_id)}"
        raise TemplateError(f"GetAtt {logical_id}.{attribute} has no local counterpart")

    def _sub(self, argument: Any) -> str:
        if not isinstance(argument, str):
            raise TemplateError("Fn::Sub with a variable map is not understood locally")

        def replace(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if "." in name and not name.startswith("AWS::"):
                return self._get_att(*name.split(".", 1))
            return self.text({"Ref": name})

        return _SUB_VARIABLE.sub(replace, argument).replace("${!", "${")

    def _if(self, argument: Any) -> Any:
        name, when_true, when_false = argument
        conditions = self.document.get("Conditions") or {}
        if name not in conditions:
            raise TemplateError(f"condition {name} is not declared")
        return self.value(when_true if self._boolean(conditions[name]) else when_false)

    # -- local names

    def type_of(self, logical_id: str) -> str:
        return str((self.resources.get(logical_id) or {}).get("Type", ""))

    def _name(self, logical_id: str, key: str) -> str | None:
        name = self.value((self.resources[logical_id].get("Properties") or {}).get(key))
        return name if isinstance(name, str) and name else None

    def queue_name(self, logical_id: str) -> str:
        return self._name(logical_id, "QueueName") or f"{STACK_NAME}-{logical_id}"

    def queue_url(self, logical_id: str) -> str:
        return f"{self.endpoint}/{ACCOUNT_ID}/{self.queue_name(logical_id)}"

    def queue_arn(self, logical_id: str) -> str:
        return f"arn:aws:sqs:{self.region}:{ACCOUNT_ID}:{self.queue_name(logical_id)}"

    def bucket_name(self, logical_id: str) -> str:
        return self._name(logical_id, "BucketName") or f"{STACK_NAME}-{logical_id}".lower()

    def function_name(self, logical_id: str) -> str:
        return self._name(logical_id, "FunctionName") or logical_id


# ---------------------------------------------------------------- reading the template


def load(
    path: Path,
    *,
    text: str | None = None,
    parameters: Mapping[str, str] | None = None,
    region: str = DEFAULT_REGION,
    endpoint_url: str = DEFAULT_ENDPOINT,
) -> Template:
    """Read the SAM template at `path` (or `text`, as if it were there: code folders are relative to `path`);
    resources resolve to local names under `endpoint_url` (moto)."""
    if text is None:
        text = path.read_text(encoding="utf-8")
    document = load_document(text)
    unknown = sorted(set(parameters or {}) - set(document.get("Parameters") or {}))
    if unknown:
        raise TemplateError(f"{', '.join(unknown)}: not a parameter of {path.name}")
    resolver = _Resolver(document, parameters or {}, region, endpoint_url.rstrip("/"))
    template = Template(path, region, resolver.endpoint, document)
    defaults = (document.get("Globals") or {}).get("Function") or {}
    for logical_id, resource in document["Resources"].items():
        kind, props = resource.get("Type"), resource.get("Properties") or {}
        if kind == FUNCTION:
            merged = merge_globals(defaults, props)
            template.functions[logical_id] = _function(resolver, path.parent, logical_id, merged, resource)
        elif kind == LAYER:
            template.layers[logical_id] = Layer(logical_id, _local_folder(path.parent, props, "ContentUri", logical_id))
        elif kind == QUEUE:
            template.queues[logical_id] = _queue(resolver, logical_id, props)
        elif kind == BUCKET:
            template.buckets[logical_id] = Bucket(logical_id, resolver.bucket_name(logical_id))
        elif kind == "AWS::Serverless::HttpApi":
            template.cors[logical_id] = _cors(resolver.value(props.get("CorsConfiguration") or {}), logical_id)
    return template


def merge_globals(defaults: Any, own: Any) -> Any:
    """SAM's rule: maps merge key by key, lists append the function's own to the global ones, else own wins."""
    if _plain_map(defaults) and _plain_map(own):
        return {**defaults, **{k: merge_globals(defaults[k], v) if k in defaults else v for k, v in own.items()}}
    if isinstance(defaults, list) and isinstance(own, list):
        return [*defaults, *own]
    return own


def _plain_map(node: Any) -> bool:
    """A mapping that is not an intrinsic function (those replace, never merge)."""
    if not isinstance(node, dict):
        return False
    return not (len(node) == 1 and (next(iter(node)) == "Ref" or next(iter(node)).startswith("Fn::")))


def _local_folder(root: Path, props: Mapping[str, Any], key: str, logical_id: str) -> Path:
    value = props.get(key)
    if not isinstance(value, str):
        raise TemplateError(f"{logical_id}: {key} must be a local folder")
    return (root / value).resolve()


def _function(
    resolver: _Resolver, root: Path, logical_id: str, props: Mapping[str, Any], resource: Mapping[str, Any]
) -> Function:
    if props.get("PackageType", "Zip") != "Zip":
        raise TemplateError(f"{logical_id}: only zip functions run locally and build here")
    if "Handler" not in props:
        raise TemplateError(f"{logical_id}: no Handler")
    environment, dropped = _environment(resolver, (props.get("Environment") or {}).get("Variables") or {})
    # Layers given by ARN come from elsewhere; only the template's own are built and mounted.
    refs = [ref.get("Ref") for ref in props.get("Layers") or [] if isinstance(ref, dict)]
    own_layers = tuple(str(ref) for ref in refs if resolver.type_of(str(ref)) == LAYER)
    url_path = (resource.get("Metadata") or {}).get("LocalUrlPath") or f"/_lambda-url/{logical_id}"
    routes, sqs, schedules = _events(resolver, logical_id, props.get("Events") or {})
    return Function(
        logical_id=logical_id,
        name=resolver.function_name(logical_id),
        code_dir=_local_folder(root, props, "CodeUri", logical_id),
        handler=resolver.text(props["Handler"]),
        timeout_s=int(resolver.value(props.get("Timeout", 3))),
        memory_mb=int(resolver.value(props.get("MemorySize", 128))),
        environment=environment,
        dropped_environment=dropped,
        runtime=resolver.text(props.get("Runtime", "")),
        architecture=resolver.text((resolver.value(props.get("Architectures")) or ["x86_64"])[0]),
        layers=own_layers,
        routes=routes,
        url_path=str(url_path).rstrip("/") if props.get("FunctionUrlConfig") else None,
        sqs_sources=sqs,
        schedules=schedules,
    )


def _environment(resolver: _Resolver, variables: Mapping[str, Any]) -> tuple[dict[str, str], tuple[str, ...]]:
    resolved: dict[str, str] = {}
    dropped: list[str] = []
    for name, node in variables.items():
        try:
            value = resolver.value(node)
        except Unresolvable:
            dropped.append(name)
            continue
        if value is not NO_VALUE:
            resolved[name] = resolver.text(value)
    return resolved, tuple(dropped)


def _events(
    resolver: _Resolver, logical_id: str, events: Mapping[str, Any]
) -> tuple[tuple[HttpRoute, ...], tuple[SqsSource, ...], tuple[Schedule, ...]]:
    routes: list[HttpRoute] = []
    sqs: list[SqsSource] = []
    schedules: list[Schedule] = []
    for name, event in events.items():
        kind, props = event.get("Type"), event.get("Properties") or {}
        try:
            if kind == "HttpApi":
                api = props.get("ApiId")
                method, path = resolver.text(props["Method"]).upper(), resolver.text(props["Path"])
                if method == "ANY" or "+}" in path:
                    raise TemplateError(f"{logical_id}.{name}: ANY and greedy {{name+}} routes are not served locally")
                routes.append(HttpRoute(method, path, api["Ref"] if isinstance(api, dict) else ""))
            elif kind == "SQS":
                failures = "ReportBatchItemFailures" in (resolver.value(props.get("FunctionResponseTypes")) or [])
                queue = _queue_target(props["Queue"], f"{logical_id}.{name}")
                batch = int(resolver.value(props.get("BatchSize", 10)))
                cap = (resolver.value(props.get("ScalingConfig")) or {}).get("MaximumConcurrency")
                sqs.append(SqsSource(queue, batch, failures, None if cap is None else int(cap)))
            elif kind == "ScheduleV2":
                expression = resolver.text(props["ScheduleExpression"])
                schedules.append(Schedule(name, expression, rate_seconds(expression)))
            else:
                log.warning("%s: event %s of type %s is not run locally", logical_id, name, kind)
        except KeyError as exc:
            raise TemplateError(f"{logical_id}.{name}: {kind} needs {exc}") from None
    return tuple(routes), tuple(sqs), tuple(schedules)


def _queue_target(node: Any, where: str) -> str:
    """The logical id of `!GetAtt <Queue>.Arn`: how the template names a queue to read from or redrive to."""
    if not (isinstance(node, dict) and isinstance(node.get("Fn::GetAtt"), list)):
        raise TemplateError(f"{where}: a queue must be given as !GetAtt <Queue>.Arn")
    return str(node["Fn::GetAtt"][0])


def rate_seconds(expression: str) -> float | None:
    """Seconds between runs of a `rate(...)` expression; None for cron or anything else."""
    match = _RATE.match(expression.strip())
    return int(match.group(1)) * _RATE_UNITS[match.group(2).rstrip("s")] if match else None


def _queue(resolver: _Resolver, logical_id: str, props: Mapping[str, Any]) -> Queue:
    redrive = props.get("RedrivePolicy") or {}
    dlq = _queue_target(redrive["deadLetterTargetArn"], logical_id) if redrive else None
    return Queue(
        logical_id=logical_id,
        name=resolver.queue_name(logical_id),
        url=resolver.queue_url(logical_id),
        arn=resolver.queue_arn(logical_id),
        visibility_timeout_s=int(resolver.value(props.get("VisibilityTimeout", 30))),
        dead_letter_queue=dlq,
        max_receive_count=int(resolver.value(redrive["maxReceiveCount"])) if dlq else None,
    )


def _cors(config: Any, logical_id: str) -> Cors:
    if not isinstance(config, dict):
        raise TemplateError(f"{logical_id}: CorsConfiguration must be a mapping locally")

    def strings(key: str) -> tuple[str, ...]:
        return tuple(str(item) for item in config.get(key) or [])

    return Cors(
        allow_origins=strings("AllowOrigins"),
        allow_methods=tuple(m.upper() for m in strings("AllowMethods")),
        allow_headers=tuple(h.lower() for h in strings("AllowHeaders")),
        expose_headers=tuple(h.lower() for h in strings("ExposeHeaders")),
        max_age=int(config["MaxAge"]) if "MaxAge" in config else None,
    )
