"""Reckoning: the shared package behind every Lambda function."""
