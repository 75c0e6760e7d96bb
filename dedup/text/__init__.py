"""Text stages: split documents into units, tokenize and normalize the hashed copy, assemble the output."""
