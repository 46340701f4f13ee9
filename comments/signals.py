"""Cross-app signal handlers: posts never imports comments, so comments listens to posts."""
