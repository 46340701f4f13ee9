"""Shared infrastructure that every app may import and that imports no app: the public origin,
HTTP helpers, caching, database routing, guards (see the layering in pyproject.toml)."""
