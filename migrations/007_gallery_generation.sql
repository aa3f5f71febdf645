-- Revocation, and erasure that follows the data. Every link and session of a scope's gallery
-- carries the link generation it was made in; switching the gallery off, or `/gallery
-- revoke`, moves the generation on, and nothing of an earlier one opens again.
ALTER TABLE scope_settings ADD COLUMN gallery_generation INTEGER NOT NULL DEFAULT 0;

-- /forget_me follows `parent_id` from a user's rows to what others made from them; without
-- an index each step of that walk would read the whole table.
CREATE INDEX generations_parent ON generations (parent_id) WHERE parent_id IS NOT NULL;
