"""A request as it arrives: the service the adapters call, admission, job plans, follow-ups, edits, history, preferences and access."""
