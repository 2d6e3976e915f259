// Placeholder: a JSON editor with errors at their fields, being written.
