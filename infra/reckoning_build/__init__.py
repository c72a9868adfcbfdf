"""`make build`: Lambda deployment artifacts in SAM's layout (`.aws-sam/build`) from uv.lock, without Docker.

Run `python -m reckoning_build --platform arm64` (the template's architecture) or
`--platform host` (wheels for this machine, so the artifacts can be imported here).
Plain `sam build` runs it too, one function or layer at a time (`--only`), through
the Makefile's `build-<LogicalId>` targets.
"""
