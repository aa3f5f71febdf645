-- Revocation: every link and session of a scope's gallery carries the generation it was made
-- in; switching the gallery off, or `/gallery revoke`, moves the generation on, and nothing
-- of an earlier one opens again.
ALTER TABLE scope_settings ADD COLUMN gallery_generation INTEGER NOT NULL DEFAULT 0;
