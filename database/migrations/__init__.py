"""The migrations ship inside the `reckoning` package as `reckoning.migrations` (see pyproject.toml)."""
