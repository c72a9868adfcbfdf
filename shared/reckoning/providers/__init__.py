"""Adapters to Stripe, Anthropic, Resend, S3 and SQS, and the offline stand-ins: one class per port.

Every SDK is imported inside the adapter that uses it, never at module level, so a function only pays at cold
start for what it calls. `reckoning.bootstrap` picks and builds them.
"""
