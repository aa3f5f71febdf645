-- The gallery's prompt search on PostgreSQL. A prompt is plain text, but PostgreSQL's text
-- search parser reads "<...>" as markup and drops what is inside (a prompt with "<script>"
-- in it would not be found by its words): the index, and the query that uses it, parse the
-- prompt with angle brackets turned into spaces.
DROP INDEX IF EXISTS generations_prompt_words;
CREATE INDEX generations_prompt_search ON generations
    USING GIN (to_tsvector('simple', translate(prompt, '<>', '  ')));
