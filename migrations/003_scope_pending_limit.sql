-- Per-scope limit on a user's requests waiting at once, which admins may lower (never above
-- the operator's MAX_PENDING_PER_USER).
ALTER TABLE scope_settings ADD COLUMN max_pending_per_user INTEGER;
