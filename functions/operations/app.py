"""Operations: runs one `reckoning` command inside the VPC, where the database and the queues are.

    make remote-ops CMD=timeline ARGS="<reckoning id>"   # sam remote invoke OperationsFunction --event '{...}'

The event is `{"command": "timeline", "args": ["<id>", "--json"]}`; the answer is the command's exit code and
everything it printed. Only the command's name is logged: its arguments may name a person.
"""

import contextlib
import io
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from reckoning import cli
from reckoning.config import DATABASE, require
from reckoning.observability import logger, metrics, tracer

NEEDS = require(DATABASE, "REPORT_QUEUE_URL", "REPORT_DLQ_URL", "REPORT_BUCKET")


def run(command: str, args: list[str]) -> dict[str, Any]:
    """The CLI's `main` in this process, its output captured."""
    output = io.StringIO()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        try:
            code = cli.main([command, *args])
        except SystemExit as exit_:  # argparse: usage errors and --help
            code = exit_.code if isinstance(exit_.code, int) else 2
    return {"exitCode": code, "output": output.getvalue()}


@logger.inject_lambda_context
@tracer.capture_lambda_handler()  # answers stay out of traces: tokens, names, report text
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    command, args = event.get("command"), event.get("args", [])
    if not isinstance(command, str) or not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        return {"exitCode": 2, "output": 'expected {"command": "<name>", "args": ["<string>", ...]}\n'}
    logger.info("operations command", extra={"command": command, "arguments": len(args)})
    result = run(command, args)
    logger.info("operations command done", extra={"command": command, "exit_code": result["exitCode"]})
    return result
