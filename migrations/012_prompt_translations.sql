-- Prompts in any language (issue 29): with PROMPT_TRANSLATION=openai, a prompt is translated
-- into English for the providers that read English best. The request keeps what its author
-- wrote (`prompt`, `negative_prompt`) and, beside it, what those providers get (NULL: the
-- words as written), so a restart rebuilds the same job. The cache shares one translation
-- of a text between every bot process and across restarts: keyed by a hash of the text and the
-- model (the text itself is not kept there), dropped with the history's retention and by
-- /forget_me with the rows whose words it translated.
ALTER TABLE generations ADD COLUMN prompt_english TEXT;
ALTER TABLE generations ADD COLUMN negative_english TEXT;
CREATE TABLE prompt_translations (
    key        TEXT NOT NULL,
    model      TEXT NOT NULL,
    english    TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (key, model)
);
CREATE INDEX prompt_translations_created ON prompt_translations (created_at);
