SELECT cursor FROM source_cursors WHERE source = :source
