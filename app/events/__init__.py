"""Canonical events (contracts/EVENTS.md): the models and the one list of types."""

from app.events.models import EVENT_TYPES, TIMESTAMP_FIELDS, envelope_model

__all__ = ["EVENT_TYPES", "TIMESTAMP_FIELDS", "envelope_model"]
