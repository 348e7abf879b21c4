-- The audit chain checked row by row in id order (app/audit.py `verify`): each row's hash
-- recomputed from its content and the stored prev_hash, and each prev_hash compared with
-- the hash of the row before it. The first row failing either check, or nothing; and the
-- chain head the insert trigger keeps, to see the newest rows deleted.
WITH checked AS (
    SELECT a.audit_id,
           a.hash IS DISTINCT FROM audit_row_hash(
               a.prev_hash, a.audit_id, a.at, a.actor, a.role, a.action, a.entity_kind,
               a.entity_key, a.reason, a.before, a.after, a.detail) AS content_changed,
           a.prev_hash IS DISTINCT FROM lag(a.hash) OVER (ORDER BY a.audit_id) AS link_broken
      FROM audit_log a
),
first_bad AS (
    SELECT audit_id, content_changed
      FROM checked
     WHERE content_changed OR link_broken
     ORDER BY audit_id
     LIMIT 1
),
newest AS (
    SELECT audit_id, hash FROM audit_log ORDER BY audit_id DESC LIMIT 1
)
SELECT (SELECT count(*) FROM audit_log) AS rows,
       (SELECT hash FROM newest) AS head_hash,
       (SELECT audit_id FROM first_bad) AS bad_audit_id,
       (SELECT content_changed FROM first_bad) AS content_changed,
       h.last_id AS recorded_last_id,
       (h.last_id IS DISTINCT FROM coalesce((SELECT audit_id FROM newest), 0)
        OR h.last_hash IS DISTINCT FROM (SELECT hash FROM newest)) AS head_mismatch
  FROM audit_chain_head h
