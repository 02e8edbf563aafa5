"""essaybot's index: essays in, searchable passages out. Knows nothing about chat."""
