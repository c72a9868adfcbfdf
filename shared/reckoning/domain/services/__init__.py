"""Services the use cases share: tokens, emails, PDFs, idempotency, costs, the outbox relay, recovery, erasure."""
