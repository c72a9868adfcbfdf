"""The test suite. Imported before any conftest, so this holds for every test and every process they start."""

import os

# No X-Ray daemon listens here: reckoning.observability's Tracer, built at import, records nothing (as outside Lambda).
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
