INSERT INTO actions (kind, entity_kind, entity_key, params, reason, requested_by, requested_role,
                     requested_at, value, needs_approval, status, idempotency_key, seen,
                     seen_fingerprint, decided_by, decided_at, updated_at)
VALUES (:kind, :entity_kind, :entity_key, CAST(:params AS jsonb), :reason, :requested_by,
        :requested_role, :requested_at, :value, :needs_approval, :status, :idempotency_key,
        CAST(:seen AS jsonb), :seen_fingerprint, :decided_by, :decided_at, now())
RETURNING action_id
