-- For the process queries (metrics/process.py): the sorts and aggregates over a month of
-- orders' steps fit in memory instead of spilling to disk (measured: bench/process.py).
-- SET LOCAL: only for the caller's transaction.
SET LOCAL work_mem = '256MB'
