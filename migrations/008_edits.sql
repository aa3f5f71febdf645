-- An edit of an earlier picture (Vary Region, Zoom out, Pan, Make square, Edit by words)
-- says what was done, for the Info; its mask is a file beside the input picture.
ALTER TABLE generations ADD COLUMN edit_note TEXT;
