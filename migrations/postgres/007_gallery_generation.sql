-- PostgreSQL twin of ../007_gallery_generation.sql: the gallery's link generation per scope.
ALTER TABLE scope_settings ADD COLUMN gallery_generation INTEGER NOT NULL DEFAULT 0;

-- /forget_me follows `parent_id` to what others made from a user's rows (see the SQLite twin).
CREATE INDEX generations_parent ON generations (parent_id) WHERE parent_id IS NOT NULL;
