"""The demo retail estate. For now: a seeded generator of canonical events (`generate`)."""
