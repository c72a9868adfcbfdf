"""Runs Reckoning's Lambda functions outside AWS: local stack, events, invoke."""
