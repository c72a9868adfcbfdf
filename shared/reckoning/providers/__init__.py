"""Adapters to Stripe, Anthropic, Resend, S3 and SQS, with offline stand-ins.

Every SDK is imported inside the adapter that uses it, never at module level,
so a function only pays at cold start for what it calls.
"""
