-- A file a collector read to its end (file drop, cloudevents), recorded in the transaction
-- that stores its last rows, with the ingest batch of that transaction (found by its
-- transaction id among the newest batches; none when the page stored no rows). Recorded once.
INSERT INTO collected_files (source, name, sha256, size, rows, collected_at, batch_id, run_id)
SELECT :source, :name, :sha256, :size, :rows, :collected_at, this_batch.batch_id, this_batch.run_id
  FROM (SELECT 1) AS one
  LEFT JOIN LATERAL (
        SELECT recent.batch_id, recent.run_id
          FROM (SELECT batch_id, run_id, xmin FROM ingest_batches ORDER BY batch_id DESC LIMIT 100) AS recent
         WHERE recent.xmin = pg_current_xact_id()::xid
         ORDER BY recent.batch_id DESC
         LIMIT 1
       ) AS this_batch ON true
ON CONFLICT (source, name, sha256) DO NOTHING
