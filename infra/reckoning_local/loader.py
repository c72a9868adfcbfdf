"""Loads a template's functions the way Lambda does, and invokes them in-process.

Lambda imports `<CodeUri>/<module>.py` with the code directory on `sys.path`;
every function here has its own `app.py`, so each is imported under a unique
module name. One imported module is one "execution environment": it serves one
invocation at a time (Powertools resolvers keep the current event on the app
object), and a function scales out to more environments under concurrency.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, cast

from reckoning_local.events import LambdaContext
from reckoning_local.template import DEFAULT_REGION, Function

log = logging.getLogger("reckoning_local")

Handler = Callable[[Any, LambdaContext], Any]

_import_lock = threading.RLock()


def import_file(path: Path, module_name: str, *, search_path: Path | None = None) -> ModuleType:
    """Import one source file as `module_name` (reused when already imported)."""
    with _import_lock:
        if module_name in sys.modules:
            return sys.modules[module_name]
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {path}")
        module = importlib.util.module_from_spec(spec)
        directory = str(search_path or path.parent)
        sys.path.insert(0, directory)  # as Lambda: the code directory is importable
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[module_name]
            raise
        finally:
            sys.path.remove(directory)
        return module


def module_name(function: Function, instance: int) -> str:
    return f"reckoning_local_fn_{function.logical_id}_{instance}"


def load_handler(function: Function, instance: int) -> Handler:
    """Import the function's module as a fresh execution environment and return its handler."""
    module = import_file(function.source_file, module_name(function, instance), search_path=function.code_dir)
    handler = getattr(module, function.attribute, None)
    if not callable(handler):
        raise ImportError(f"{function.logical_id}: {function.handler} is not a callable")
    return cast(Handler, handler)


def context_for(function: Function, region: str = DEFAULT_REGION) -> LambdaContext:
    """A fresh Lambda context with the template's timeout and memory."""
    return LambdaContext(
        function_name=function.name,
        memory_limit_in_mb=function.memory_mb,
        timeout_s=function.timeout_s,
        log_group_name=f"/aws/lambda/{function.name}",
        log_stream_name=f"local/[$LATEST]{function.logical_id}",
        region=region,
    )


class FunctionRuntime:
    """Invokes one function, in up to `max_environments` environments at once (more invocations wait)."""

    def __init__(self, function: Function, *, region: str = DEFAULT_REGION, max_environments: int = 4) -> None:
        self.function = function
        self.region = region
        self._max = max_environments
        self._idle: list[Handler] = []
        self._created = 0
        self._available = threading.Condition()

    def invoke(self, event: Any) -> Any:
        """Call the handler with `event` and a context; exceptions propagate as the handler raised them."""
        handler = self._acquire()
        started = time.monotonic()
        try:
            return handler(event, context_for(self.function, self.region))
        finally:
            self._release(handler)
            elapsed = time.monotonic() - started
            if elapsed > self.function.timeout_s:
                log.warning(
                    "%s took %.1f s, longer than its Timeout of %d s (Lambda would have stopped it)",
                    self.function.logical_id,
                    elapsed,
                    self.function.timeout_s,
                )

    def _acquire(self) -> Handler:
        with self._available:
            while not self._idle and self._created >= self._max:
                self._available.wait()
            if self._idle:
                return self._idle.pop()
            self._created += 1
            instance = self._created
        started = time.monotonic()
        try:
            handler = load_handler(self.function, instance)
        except BaseException:
            with self._available:
                self._created -= 1
                self._available.notify()
            raise
        elapsed_ms = (time.monotonic() - started) * 1000
        log.info("cold start %s (environment %d) in %.0f ms", self.function.logical_id, instance, elapsed_ms)
        return handler

    def close(self) -> None:
        """Forget this runtime's environments, so that the next stack in this process starts them cold, with
        the providers its own settings choose (a module-level cache would otherwise keep the first stack's)."""
        with self._available:
            for instance in range(1, self._created + 1):
                sys.modules.pop(module_name(self.function, instance), None)
            self._idle.clear()
            self._created = 0

    def _release(self, handler: Handler) -> None:
        with self._available:
            self._idle.append(handler)
            self._available.notify()
