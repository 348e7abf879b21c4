-- Forget kept figures not computed since :before (metrics/past.py prune, the scheduler's
-- past-figures job): a past window nobody looked at again.
DELETE FROM past_figures WHERE computed_at < :before
