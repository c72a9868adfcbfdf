"""`make build`: Lambda deployment artifacts in SAM's layout (`.aws-sam/build`), without Docker or `sam build`.

Run `python -m reckoning_build --platform arm64` (the template's architecture) or
`--platform host` (wheels for this machine, so the artifacts can be imported here).
"""
