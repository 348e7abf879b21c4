-- A file a collector read whole (cloudevents, file drop), recorded in the transaction that
-- stores its last rows and moves the cursor past it. The same file (source, name, sha256)
-- recorded again is left as it was.
INSERT INTO collected_files (source, name, sha256, size, rows, collected_at)
VALUES (:source, :name, :sha256, :size, :rows, :collected_at)
ON CONFLICT (source, name, sha256) DO NOTHING
