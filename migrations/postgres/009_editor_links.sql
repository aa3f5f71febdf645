-- PostgreSQL twin of ../010_editor_links.sql: each brush-editor link's use, stored once.
CREATE TABLE editor_link_uses (
    nonce TEXT PRIMARY KEY,
    platform TEXT NOT NULL,
    user_id TEXT NOT NULL,
    generation_id TEXT NOT NULL,
    used_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX editor_link_uses_user ON editor_link_uses (platform, user_id);
