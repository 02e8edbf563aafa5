"""essaybot's chat side: answers, channels and the command line."""
