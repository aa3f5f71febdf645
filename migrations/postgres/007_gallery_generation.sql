-- PostgreSQL twin of ../007_gallery_generation.sql: the gallery's link generation per scope.
ALTER TABLE scope_settings ADD COLUMN gallery_generation INTEGER NOT NULL DEFAULT 0;
