-- Files a file-drop source has collected (collectors/file_drop.py).
--
-- A row is written in the same transaction as the last rows of the file and the cursor
-- that moves past it: a file is either collected and recorded, or neither.
--
-- Unique on (source, name, sha256): a file is known by its name and its content.
-- - the same name with new content is a new file, read again;
-- - the same content under a new name (a re-export, an empty daily file) is read too:
--   its events are duplicates by (source, id) and add nothing, but the drop is recorded
--   and visible, never skipped silently for looking like an older file.
CREATE TABLE collected_files (
    source        text COLLATE "C" NOT NULL,
    name          text NOT NULL,                 -- file name inside the drop folder
    sha256        text COLLATE "C" NOT NULL,     -- hex digest of the content
    size          bigint NOT NULL,               -- bytes
    rows          bigint,                        -- records read, malformed ones included (if the kind counts)
    collected_at  timestamptz NOT NULL,          -- by the collector's clock
    batch_id      bigint,                        -- the ingest batch that stored its last rows
    run_id        uuid,                          -- the run of that batch (none for a file without rows)
    PRIMARY KEY (source, name, sha256)
);
CREATE INDEX collected_files_recent ON collected_files (source, collected_at);
