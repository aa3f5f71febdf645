"""What a scope and a user may ask: quotas and their days and scripts, scope limits, and the safety gates."""
