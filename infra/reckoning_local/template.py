"""Reads `template.yaml` into typed descriptions of what the local stack must run.

CloudFormation short-form tags (`!Ref`, `!Sub`, …) become their long forms, and
values are resolved the way they would be in a deployed stack, except that
queues, buckets and ARNs resolve to their local (moto) counterparts. A value
that cannot mean anything locally (a secret ARN parameter without a default, an
import from another stack) resolves to nothing and is dropped.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml

log = logging.getLogger("reckoning_local")

ACCOUNT_ID = "123456789012"
STACK_NAME = "reckoning-local"
DEFAULT_ENDPOINT = "http://127.0.0.1:4566"

# ---------------------------------------------------------------- YAML with CloudFormation tags

_FN_TAGS = (
    "Sub",
    "If",
    "Not",
    "Equals",
    "And",
    "Or",
    "Select",
    "Join",
    "Split",
    "FindInMap",
    "ImportValue",
    "GetAZs",
    "Base64",
    "Cidr",
    "Transform",
)


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that also understands CloudFormation's short-form intrinsic functions."""


def _node_value(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    raise yaml.constructor.ConstructorError(None, None, f"unexpected node {node.tag}", node.start_mark)


def _long_form(key: str) -> Callable[[yaml.SafeLoader, yaml.Node], dict[str, Any]]:
    return lambda loader, node: {key: _node_value(loader, node)}


def _get_att(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    value = _node_value(loader, node)
    if isinstance(value, str):  # `!GetAtt Queue.Arn` → ["Queue", "Arn"]
        value = value.split(".", 1)
    return {"Fn::GetAtt": value}


_CfnLoader.add_constructor("!Ref", _long_form("Ref"))
_CfnLoader.add_constructor("!Condition", _long_form("Condition"))
_CfnLoader.add_constructor("!GetAtt", _get_att)
for _name in _FN_TAGS:
    _CfnLoader.add_constructor(f"!{_name}", _long_form(f"Fn::{_name}"))


def load_yaml(text: str) -> dict[str, Any]:
    """Parse template text; short-form tags become `{"Ref": …}` / `{"Fn::Sub": …}` long forms."""
    document = yaml.load(text, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(document, dict):
        raise ValueError("a template must be a mapping")
    return cast(dict[str, Any], document)


# ---------------------------------------------------------------- typed descriptions


@dataclass(frozen=True, slots=True)
class HttpRoute:
    """One HttpApi event: `Path` and `Method` as API Gateway routes them."""

    event_name: str
    method: str  # upper case; "ANY" matches every method
    path: str  # "/api/report/{token}", or "$default"
    api_id: str | None = None

    @property
    def route_key(self) -> str:
        """`requestContext.routeKey` exactly as API Gateway sets it."""
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"


@dataclass(frozen=True, slots=True)
class FunctionUrl:
    """A Lambda function URL, served locally under `local_path`."""

    auth_type: str
    local_path: str


@dataclass(frozen=True, slots=True)
class SqsSource:
    """An SQS event source mapping."""

    event_name: str
    queue: str  # logical id of the AWS::SQS::Queue
    batch_size: int = 10
    batching_window_s: int = 0
    report_batch_item_failures: bool = False
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class Schedule:
    """A Schedule / ScheduleV2 event: `rate(...)` runs locally, `cron(...)` only on demand."""

    event_name: str
    expression: str
    period_s: float | None
    input: str | None = None
    enabled: bool = True
    scheduler: bool = False  # ScheduleV2: EventBridge Scheduler rather than a rule


@dataclass(frozen=True, slots=True)
class Function:
    logical_id: str
    name: str
    code_dir: Path
    handler: str  # "app.lambda_handler"
    timeout_s: int
    memory_mb: int
    environment: dict[str, str]
    dropped_environment: tuple[str, ...] = ()
    routes: tuple[HttpRoute, ...] = ()
    url: FunctionUrl | None = None
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
class Queue:
    logical_id: str
    name: str
    url: str
    arn: str
    visibility_timeout_s: int = 30
    fifo: bool = False
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
    allow_credentials: bool = False


@dataclass(frozen=True, slots=True)
class Template:
    path: Path
    region: str
    endpoint_url: str
    parameters: dict[str, str]
    functions: dict[str, Function] = field(default_factory=dict)
    queues: dict[str, Queue] = field(default_factory=dict)
    buckets: dict[str, Bucket] = field(default_factory=dict)
    cors: dict[str, Cors] = field(default_factory=dict)  # by HttpApi logical id ("" = the implicit API)

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


# ---------------------------------------------------------------- value resolution


class Unresolvable(Exception):
    """The value has no local meaning (and is dropped where it appears)."""


class _NoValue:
    """`AWS::NoValue`: the property is removed."""


NO_VALUE = _NoValue()

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")
_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_RATE_UNITS = {"minute": 60, "hour": 3600, "day": 86400}


class Resolver:
    """Evaluates intrinsic functions against the template, its parameters and the local resources."""

    def __init__(self, document: Mapping[str, Any], parameters: Mapping[str, str], region: str, endpoint: str) -> None:
        self.document = document
        self.parameters = dict(parameters)
        self.region = region
        self.endpoint = endpoint.rstrip("/")
        self.resources: dict[str, Any] = document.get("Resources") or {}
        self._functions: dict[str, Callable[[Any], Any]] = {
            "Ref": self._ref,
            "Fn::GetAtt": self._get_att,
            "Fn::Sub": self._sub,
            "Fn::If": self._if,
            "Fn::Join": self._join,
            "Fn::Select": self._select,
            "Fn::Split": self._split,
            "Fn::FindInMap": self._find_in_map,
            "Fn::Base64": lambda v: base64.b64encode(self.string(v).encode()).decode(),
            "Fn::GetAZs": lambda _v: [f"{self.region}{zone}" for zone in "abc"],
            "Fn::Equals": lambda v: self.value(v[0]) == self.value(v[1]),
            "Fn::Not": lambda v: not self.condition_value(v[0]),
            "Fn::And": lambda v: all(self.condition_value(c) for c in v),
            "Fn::Or": lambda v: any(self.condition_value(c) for c in v),
            "Condition": self.condition,
        }

    # -- entry points

    def value(self, node: Any) -> Any:
        """The resolved value; raises Unresolvable, returns NO_VALUE for `AWS::NoValue`."""
        if isinstance(node, dict) and len(node) == 1:
            ((key, argument),) = node.items()
            if key in self._functions:
                return self._functions[key](argument)
            if key.startswith("Fn::"):
                raise Unresolvable(key)
        if isinstance(node, dict):
            return {k: v for k, v in ((k, self.value(v)) for k, v in node.items()) if v is not NO_VALUE}
        if isinstance(node, list):
            return [v for v in (self.value(item) for item in node) if v is not NO_VALUE]
        return node

    def string(self, node: Any) -> str:
        value = self.value(node)
        if value is NO_VALUE or isinstance(value, dict | list):
            raise Unresolvable("not a string")
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def optional(self, node: Any) -> Any:
        """The resolved value, or None when it is unresolvable or `AWS::NoValue`."""
        try:
            value = self.value(node)
        except Unresolvable:
            return None
        return None if value is NO_VALUE else value

    def condition(self, name: str) -> bool:
        conditions = self.document.get("Conditions") or {}
        if name not in conditions:
            raise Unresolvable(f"condition {name}")
        return self.condition_value(conditions[name])

    def condition_value(self, node: Any) -> bool:
        value = self.value(node)
        if not isinstance(value, bool):
            raise Unresolvable("condition is not a boolean")
        return value

    # -- local names

    def queue_name(self, logical_id: str) -> str:
        props = self.resources[logical_id].get("Properties") or {}
        name = self.optional(props.get("QueueName"))
        if isinstance(name, str) and name:
            return name
        fifo = _truthy(self.optional(props.get("FifoQueue")))
        return f"{STACK_NAME}-{logical_id}" + (".fifo" if fifo else "")

    def queue_url(self, logical_id: str) -> str:
        return f"{self.endpoint}/{ACCOUNT_ID}/{self.queue_name(logical_id)}"

    def queue_arn(self, logical_id: str) -> str:
        return f"arn:aws:sqs:{self.region}:{ACCOUNT_ID}:{self.queue_name(logical_id)}"

    def bucket_name(self, logical_id: str) -> str:
        props = self.resources[logical_id].get("Properties") or {}
        name = self.optional(props.get("BucketName"))
        return name if isinstance(name, str) and name else f"{STACK_NAME}-{logical_id}".lower()

    def function_name(self, logical_id: str) -> str:
        props = self.resources[logical_id].get("Properties") or {}
        name = self.optional(props.get("FunctionName"))
        return name if isinstance(name, str) and name else logical_id

    def _type(self, logical_id: str) -> str:
        return str((self.resources.get(logical_id) or {}).get("Type", ""))

    # -- intrinsic functions

    def _ref(self, name: str) -> Any:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": STACK_NAME,
            "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{ACCOUNT_ID}:stack/{STACK_NAME}/local",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": NO_VALUE,
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        declared = (self.document.get("Parameters") or {}).get(name)
        if declared is not None:
            if "Default" not in declared:
                raise Unresolvable(f"parameter {name} has no default")
            return self.string(declared["Default"])
        return self._ref_resource(name)

    def _ref_resource(self, logical_id: str) -> str:
        kind = self._type(logical_id)
        if kind == "AWS::SQS::Queue":
            return self.queue_url(logical_id)
        if kind == "AWS::S3::Bucket":
            return self.bucket_name(logical_id)
        if kind in {"AWS::Serverless::Function", "AWS::Lambda::Function"}:
            return self.function_name(logical_id)
        raise Unresolvable(f"Ref {logical_id} ({kind or 'unknown'})")

    def _get_att(self, argument: Any) -> str:
        logical_id, attribute = (self.string(part) for part in argument)
        kind = self._type(logical_id)
        if kind == "AWS::SQS::Queue":
            queue_attributes = {
                "Arn": self.queue_arn,
                "QueueName": self.queue_name,
                "QueueUrl": self.queue_url,
            }
            if attribute in queue_attributes:
                return queue_attributes[attribute](logical_id)
        if kind == "AWS::S3::Bucket":
            name = self.bucket_name(logical_id)
            bucket_attributes = {"Arn": f"arn:aws:s3:::{name}", "DomainName": f"{name}.s3.amazonaws.com"}
            if attribute in bucket_attributes:
                return bucket_attributes[attribute]
        raise Unresolvable(f"GetAtt {logical_id}.{attribute}")

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])

        def replace(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name in variables:
                return self.string(variables[name])
            if "." in name and not name.startswith("AWS::"):
                return self._get_att(name.split(".", 1))
            return self.string({"Ref": name})

        return _SUB_VARIABLE.sub(replace, text).replace("${!", "${")

    def _if(self, argument: Any) -> Any:
        name, when_true, when_false = argument
        return self.value(when_true if self.condition(name) else when_false)

    def _join(self, argument: Any) -> str:
        delimiter, items = argument
        values = self.value(items)
        if not isinstance(values, list):
            raise Unresolvable("Join of a non-list")
        return self.string(delimiter).join(self.string(v) for v in values)

    def _select(self, argument: Any) -> Any:
        index, items = argument
        values = self.value(items)
        position = int(self.string(index))
        if not isinstance(values, list) or not 0 <= position < len(values):
            raise Unresolvable("Select out of range")
        return values[position]

    def _split(self, argument: Any) -> list[str]:
        delimiter, text = argument
        return self.string(text).split(self.string(delimiter))

    def _find_in_map(self, argument: Any) -> Any:
        name, top, second = (self.string(part) for part in argument)
        try:
            return self.value(self.document["Mappings"][name][top][second])
        except (KeyError, TypeError) as exc:
            raise Unresolvable(f"FindInMap {name}") from exc


# ---------------------------------------------------------------- reading the template


def load(
    path: Path,
    *,
    parameters: Mapping[str, str] | None = None,
    region: str = "eu-west-1",
    endpoint_url: str = DEFAULT_ENDPOINT,
) -> Template:
    """Read a SAM template; resources resolve to local names under `endpoint_url` (moto)."""
    return parse(path.read_text(), path, parameters=parameters, region=region, endpoint_url=endpoint_url)


def parse(
    text: str,
    path: Path,
    *,
    parameters: Mapping[str, str] | None = None,
    region: str = "eu-west-1",
    endpoint_url: str = DEFAULT_ENDPOINT,
) -> Template:
    document = load_yaml(text)
    resolver = Resolver(document, parameters or {}, region, endpoint_url)
    resources: dict[str, Any] = document.get("Resources") or {}
    template = Template(path, region, endpoint_url.rstrip("/"), dict(parameters or {}))
    globals_function = (document.get("Globals") or {}).get("Function") or {}
    for logical_id, resource in resources.items():
        kind = resource.get("Type")
        if kind == "AWS::Serverless::Function":
            template.functions[logical_id] = _function(resolver, path.parent, logical_id, resource, globals_function)
        elif kind == "AWS::SQS::Queue":
            template.queues[logical_id] = _queue(resolver, logical_id, resource.get("Properties") or {})
        elif kind == "AWS::S3::Bucket":
            template.buckets[logical_id] = Bucket(logical_id, resolver.bucket_name(logical_id))
        elif kind == "AWS::Serverless::HttpApi":
            template.cors[logical_id] = _cors(resolver, (resource.get("Properties") or {}).get("CorsConfiguration"))
    implicit = ((document.get("Globals") or {}).get("HttpApi") or {}).get("CorsConfiguration")
    template.cors[""] = _cors(resolver, implicit)
    return template


def _function(
    resolver: Resolver, root: Path, logical_id: str, resource: Mapping[str, Any], defaults: Mapping[str, Any]
) -> Function:
    props: dict[str, Any] = {**defaults, **(resource.get("Properties") or {})}
    variables = {
        **((defaults.get("Environment") or {}).get("Variables") or {}),
        **(((resource.get("Properties") or {}).get("Environment") or {}).get("Variables") or {}),
    }
    environment, dropped = _environment(resolver, variables)
    metadata = resource.get("Metadata") or {}
    routes: list[HttpRoute] = []
    sqs: list[SqsSource] = []
    schedules: list[Schedule] = []
    for event_name, event in (props.get("Events") or {}).items():
        kind, event_props = event.get("Type"), event.get("Properties") or {}
        if kind == "HttpApi":
            routes.append(_route(resolver, event_name, event_props))
        elif kind == "SQS":
            sqs.append(_sqs_source(resolver, event_name, event_props))
        elif kind in {"Schedule", "ScheduleV2"}:
            schedules.append(_schedule(resolver, event_name, event_props, scheduler=kind == "ScheduleV2"))
        else:
            log.warning("%s: event %s of type %s is not run locally", logical_id, event_name, kind)
    url_config = props.get("FunctionUrlConfig")
    url = None
    if url_config:
        local_path = str(metadata.get("LocalUrlPath") or f"/_lambda-url/{logical_id}")
        url = FunctionUrl(str(resolver.optional(url_config.get("AuthType")) or "NONE"), local_path.rstrip("/") or "/")
    return Function(
        logical_id=logical_id,
        name=resolver.function_name(logical_id),
        code_dir=(root / resolver.string(props.get("CodeUri", "."))).resolve(),
        handler=resolver.string(props["Handler"]),
        timeout_s=int(resolver.optional(props.get("Timeout")) or 3),
        memory_mb=int(resolver.optional(props.get("MemorySize")) or 128),
        environment=environment,
        dropped_environment=dropped,
        routes=tuple(routes),
        url=url,
        sqs_sources=tuple(sqs),
        schedules=tuple(schedules),
    )


def _environment(resolver: Resolver, variables: Mapping[str, Any]) -> tuple[dict[str, str], tuple[str, ...]]:
    resolved: dict[str, str] = {}
    dropped: list[str] = []
    for name, node in variables.items():
        try:
            value = resolver.value(node)
            if value is not NO_VALUE:
                resolved[name] = resolver.string(value)
        except Unresolvable:
            dropped.append(name)
    return resolved, tuple(dropped)


def _route(resolver: Resolver, event_name: str, props: Mapping[str, Any]) -> HttpRoute:
    path = resolver.optional(props.get("Path"))
    method = resolver.optional(props.get("Method"))
    api = props.get("ApiId")
    api_id = api.get("Ref") if isinstance(api, dict) else None
    if not path:  # no Path/Method: the API's $default route
        return HttpRoute(event_name, "ANY", "$default", api_id)
    method_name = str(method or "ANY").upper()
    if method_name in {"*", "X-AMAZON-APIGATEWAY-ANY-METHOD"}:
        method_name = "ANY"
    return HttpRoute(event_name, method_name, str(path), api_id)


def _sqs_source(resolver: Resolver, event_name: str, props: Mapping[str, Any]) -> SqsSource:
    queue = props.get("Queue")
    if not (isinstance(queue, dict) and "Fn::GetAtt" in queue):
        raise ValueError(f"{event_name}: SQS Queue must be !GetAtt <Queue>.Arn to run locally")
    target = queue["Fn::GetAtt"]
    return SqsSource(
        event_name=event_name,
        queue=str(target[0]),
        batch_size=int(resolver.optional(props.get("BatchSize")) or 10),
        batching_window_s=int(resolver.optional(props.get("MaximumBatchingWindowInSeconds")) or 0),
        report_batch_item_failures="ReportBatchItemFailures"
        in (resolver.optional(props.get("FunctionResponseTypes")) or ()),
        enabled=_truthy(resolver.optional(props.get("Enabled", True))),
    )


def _schedule(resolver: Resolver, event_name: str, props: Mapping[str, Any], *, scheduler: bool) -> Schedule:
    expression = str(resolver.optional(props.get("Schedule") or props.get("ScheduleExpression")) or "")
    state = str(resolver.optional(props.get("State")) or "ENABLED")
    return Schedule(
        event_name=event_name,
        expression=expression,
        period_s=rate_seconds(expression),
        input=resolver.optional(props.get("Input")),
        enabled=_truthy(resolver.optional(props.get("Enabled", True))) and state.upper() == "ENABLED",
        scheduler=scheduler,
    )


def _truthy(value: Any) -> bool:
    return str(value).lower() == "true"


def rate_seconds(expression: str) -> float | None:
    """Seconds between runs of a `rate(...)` expression; None for cron or anything else."""
    match = _RATE.match(expression.strip())
    if not match:
        return None
    return int(match.group(1)) * _RATE_UNITS[match.group(2).rstrip("s")]


def _queue(resolver: Resolver, logical_id: str, props: Mapping[str, Any]) -> Queue:
    redrive = resolver.optional(props.get("RedrivePolicy")) or {}
    dlq = None
    target = (props.get("RedrivePolicy") or {}).get("deadLetterTargetArn")
    if isinstance(target, dict) and "Fn::GetAtt" in target:
        dlq = str(target["Fn::GetAtt"][0])
    return Queue(
        logical_id=logical_id,
        name=resolver.queue_name(logical_id),
        url=resolver.queue_url(logical_id),
        arn=resolver.queue_arn(logical_id),
        visibility_timeout_s=int(resolver.optional(props.get("VisibilityTimeout")) or 30),
        fifo=_truthy(resolver.optional(props.get("FifoQueue"))),
        dead_letter_queue=dlq,
        max_receive_count=int(redrive["maxReceiveCount"]) if dlq and "maxReceiveCount" in redrive else None,
    )


def _cors(resolver: Resolver, config: Any) -> Cors:
    value = resolver.optional(config)
    if _truthy(value):
        return Cors(allow_origins=("*",), allow_methods=("*",), allow_headers=("*",))
    if not isinstance(value, dict):
        return Cors()

    def strings(key: str) -> tuple[str, ...]:
        items = value.get(key) or []
        return tuple(str(item) for item in (items if isinstance(items, list) else [items]))

    return Cors(
        allow_origins=strings("AllowOrigins"),
        allow_methods=tuple(m.upper() for m in strings("AllowMethods")),
        allow_headers=tuple(h.lower() for h in strings("AllowHeaders")),
        expose_headers=tuple(h.lower() for h in strings("ExposeHeaders")),
        max_age=int(value["MaxAge"]) if "MaxAge" in value else None,
        allow_credentials=_truthy(value.get("AllowCredentials")),
    )
