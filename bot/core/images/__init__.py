"""Pictures as bytes: decoding and composing (pixels), stored files, and the parameters of input pictures."""
