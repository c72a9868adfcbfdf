"""Command line: `python -m reckoning_build [--platform arm64|x86_64|host] [--out DIR]`.

`--only LOGICAL_ID --artifacts-dir DIR` builds one function or layer: the Makefile's
`build-<LogicalId>` targets, which `sam build` runs, call it that way.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from reckoning_build import artifacts, plan, wheels
from reckoning_local.template import TemplateError

log = logging.getLogger("reckoning_build")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m reckoning_build", description=__doc__)
    parser.add_argument(
        "--platform",
        choices=["arm64", "x86_64", "host"],
        help="the Lambda architecture to build for (default: the template's), or host to import the result here",
    )
    parser.add_argument("--template", type=Path, default=Path("template.yaml"), help="SAM template (next to pyproject)")
    parser.add_argument("--out", type=Path, help="output folder (default: .aws-sam/build beside the template)")
    parser.add_argument("--only", metavar="LOGICAL_ID", help="build this one function or layer (with --artifacts-dir)")
    parser.add_argument("--artifacts-dir", help="where --only builds to: sam build's ARTIFACTS_DIR, empty")
    args = parser.parse_args(argv)
    if bool(args.only) != bool(args.artifacts_dir):
        parser.error("--only and --artifacts-dir go together (sam build sets ARTIFACTS_DIR for build-<LogicalId>)")
    if args.only and args.out:
        parser.error("--out builds everything; --only builds into --artifacts-dir")
    return args


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    args = _arguments(argv)
    root = args.template.resolve().parent
    work_dir = root / ".local" / "build"
    try:
        the_plan = plan.load(root, args.template.resolve())
        target = _target(args.platform, the_plan)
        if args.only:
            one = artifacts.build_one(the_plan, target, args.only, Path(args.artifacts_dir), work_dir=work_dir)
            print(f"{one.logical_id}: {one.size / artifacts.MB:.1f} MB unzipped, {len(one.distributions)} wheels")
            return 0
        result = artifacts.build(the_plan, target, args.out or root / ".aws-sam" / "build", work_dir=work_dir)
    except (plan.PlanError, TemplateError, wheels.WheelError, artifacts.BuildError) as exc:
        log.error("build failed: %s", exc)
        return 1
    print(artifacts.size_table(result))
    too_big = artifacts.oversized(result)
    if too_big:
        log.error("over Lambda's unzipped limit with their layers: %s", ", ".join(too_big))
        return 1
    log.info("built template: %s", result.template)
    return 0


def _target(platform: str | None, the_plan: plan.Plan) -> wheels.Target:
    if platform == "host":
        if f"{sys.version_info.major}.{sys.version_info.minor}" != the_plan.python_version:
            log.warning("host Python is not the runtime's python%s: wheels may differ", the_plan.python_version)
        return wheels.host_target()
    architecture = platform or the_plan.architecture
    if architecture != the_plan.architecture:
        raise wheels.WheelError(f"the template's functions run on {the_plan.architecture}, not {architecture}")
    return wheels.lambda_target(architecture, the_plan.python_version)


if __name__ == "__main__":
    sys.exit(main())
