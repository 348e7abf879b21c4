-- The files among :names a file-drop source has collected before (name and content).
SELECT name, sha256 FROM collected_files WHERE source = :source AND name = ANY(CAST(:names AS text[]))
