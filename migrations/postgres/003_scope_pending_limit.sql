-- PostgreSQL twin of ../003_scope_pending_limit.sql.
ALTER TABLE scope_settings ADD COLUMN max_pending_per_user INTEGER;
