"""Collectors: pull native records from source systems and map them to canonical events."""
