"""The workers (Dramatiq only): module-level actors, delivery, escalation and digests, the brokers, the
notification channels and their rate limits. May import minqing/ and schemas/; never functions/."""
