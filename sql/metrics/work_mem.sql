-- For the inventory queries that sort or hash every position (metrics/inventory.py): the
-- positions and pairs fit in memory instead of spilling to disk (bench/pages.py).
-- SET LOCAL: only for the caller's transaction.
SET LOCAL work_mem = '64MB'
