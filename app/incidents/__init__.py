"""Incident reviews: records (open, attach, range, notes, close; audited), the combined
timeline, the review a page or export reads, and the Markdown / HTML reports.

The impact figures are pure functions in metrics/incidents.py."""
