-- Whether a file-drop source has collected this file (this name with this content) before.
SELECT EXISTS (
    SELECT 1 FROM collected_files WHERE source = :source AND name = :name AND sha256 = :sha256
) AS collected
