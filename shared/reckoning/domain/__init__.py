"""The lifecycle of a reckoning: submit, pay, claim, generate, release, refund. No HTTP, no Lambda."""
