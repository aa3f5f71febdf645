-- The brush editor's links work once: each link's nonce is stored when its edit is queued,
-- and a second submission with the same link finds it here. The row names the person and
-- the picture (forget-me removes a person's rows) and when the link expires (the retention
-- purge drops rows of links that can no longer open anything).
CREATE TABLE editor_link_uses (
    nonce TEXT PRIMARY KEY,
    platform TEXT NOT NULL,
    user_id TEXT NOT NULL,
    generation_id TEXT NOT NULL,
    used_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX editor_link_uses_user ON editor_link_uses (platform, user_id);
