"""Dead letters: reading them back, and sending them for processing again after a fix."""
