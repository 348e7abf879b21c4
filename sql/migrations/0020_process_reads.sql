-- The Process page's reads (sql/process/*.sql over process_orders, migration 0017), cheaper
-- with the same results; no table, no upkeep: ingest is untouched.
--
-- process_runs_until (how many of an order's runs started at or before p_as_of) counted
-- the array with a subquery: a SQL function the planner cannot inline, run per order (up
-- to five times) for every order with steps after as_of. step_at is ascending (the runs in
-- (time, seq) order, never NULL), so width_bucket's binary search gives the same number:
-- the count of elements <= p_as_of. As one expression it is inlined into process_orders.
-- Measured at 10M events, 7-day window (222k orders, 27k cut at as_of): the map 690 ->
-- 473 ms, the edges 917 -> 687 ms, the bottlenecks 2.06 -> 1.60 s.
CREATE OR REPLACE FUNCTION process_runs_until(p_step_at timestamptz[], p_as_of timestamptz) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT width_bucket(p_as_of, p_step_at)
$fn$;

-- Pure functions of their arguments: safe in parallel plans (a parallel-unsafe function
-- anywhere in a statement keeps the whole statement on one process).
ALTER FUNCTION process_step_name(integer) PARALLEL SAFE;
ALTER FUNCTION process_step_code(text) PARALLEL SAFE;
ALTER FUNCTION process_variant(smallint[]) PARALLEL SAFE;
ALTER FUNCTION process_conforms(smallint[], smallint[], smallint) PARALLEL SAFE;
