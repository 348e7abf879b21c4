-- One audit row; the trigger audit_log_chain numbers it and sets prev_hash and hash.
INSERT INTO audit_log (at, actor, role, action, entity_kind, entity_key, reason,
                       before, after, detail)
VALUES (coalesce(CAST(:at AS timestamptz), now()), :actor, :role, :action, :entity_kind,
        :entity_key, :reason, CAST(:before AS jsonb), CAST(:after AS jsonb),
        CAST(:detail AS jsonb))
RETURNING audit_id
