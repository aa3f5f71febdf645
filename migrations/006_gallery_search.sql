-- Nothing to change here: SQLite's gallery search (FTS5, migration 004) reads prompts as plain
-- text already. This file keeps the version numbers of both dialects in step with
-- postgres/006_gallery_search.sql, which rebuilds PostgreSQL's prompt search index.
SELECT 1;
