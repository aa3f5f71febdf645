-- PostgreSQL twin of ../004_gallery.sql: the hidden flag, the gallery switch and the gallery's
-- page index. SQLite's FTS5 search tables have no twin: PostgreSQL searches a GIN index over
-- the prompt's words instead (the web gallery itself reads SQLite only, for now).
ALTER TABLE generations ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;
ALTER TABLE scope_settings ADD COLUMN gallery INTEGER NOT NULL DEFAULT 1;

CREATE INDEX generations_gallery ON generations (platform, scope_id, created_at DESC, id DESC)
    WHERE status = 'delivered' AND image_path IS NOT NULL;

CREATE INDEX generations_prompt_words ON generations USING GIN (to_tsvector('simple', prompt));
