// Placeholder: a JSON Schema (draft-04) form, being written.
