-- Confirm the sent commands whose effect has come back as a collected event (numbered
-- after the command was sent): a manual reroute of that order to that node; the OMS
-- snapshot of a held or released position; the adjustment with that system, delta and
-- reason; an ok call of a retried delivery; the middleware's log of a transfer decision.
WITH sent AS (
    SELECT o.outbox_id, o.action_id, o.command AS c, o.sent_after_seq AS after_seq
      FROM outbox o
     WHERE o.status = 'sent'
       FOR UPDATE SKIP LOCKED
),
matched AS (
    SELECT s.outbox_id, s.action_id,
           CASE s.c ->> 'kind'
           WHEN 'reroute' THEN (
               SELECT min(e.seq) FROM events e
                WHERE e.order_id = s.c ->> 'order_id' AND e.seq > s.after_seq
                  AND e.type = 'retail.order.rerouted'
                  AND e.data ->> 'to_node' = s.c ->> 'to_node' AND e.data ->> 'reason' = 'manual')
           WHEN 'hold' THEN (
               SELECT min(e.seq) FROM events e
                WHERE e.location_id = s.c ->> 'location_id' AND e.sku = s.c ->> 'sku'
                  AND e.seq > s.after_seq AND e.type = 'retail.inventory.snapshot'
                  AND e.data ->> 'system' = 'oms')
           WHEN 'release_hold' THEN (
               SELECT min(e.seq) FROM events e
                WHERE e.location_id = s.c ->> 'location_id' AND e.sku = s.c ->> 'sku'
                  AND e.seq > s.after_seq AND e.type = 'retail.inventory.snapshot'
                  AND e.data ->> 'system' = 'oms')
           WHEN 'adjust' THEN (
               SELECT min(e.seq) FROM events e
                WHERE e.location_id = s.c ->> 'location_id' AND e.sku = s.c ->> 'sku'
                  AND e.seq > s.after_seq AND e.type = 'retail.inventory.adjusted'
                  AND e.data ->> 'system' = s.c ->> 'system'
                  AND e.data ->> 'delta' = s.c ->> 'delta'
                  AND e.data ->> 'reason' = s.c ->> 'reason')
           WHEN 'retry' THEN (
               SELECT min(e.seq) FROM events e
                WHERE e.interface = s.c ->> 'interface' AND e.seq > s.after_seq
                  AND e.type = 'retail.integration.call'
                  AND e.data ->> 'correlation_id' = s.c ->> 'correlation_id'
                  AND e.data ->> 'status' = 'ok')
           WHEN 'transfer' THEN (
               SELECT min(e.seq) FROM events e
                WHERE e.interface = 'ctower.erp.transfer_decision' AND e.seq > s.after_seq
                  AND e.type = 'retail.integration.call'
                  AND e.data ->> 'correlation_id' = s.c ->> 'transfer_id')
           END AS seq
      FROM sent s
)
UPDATE outbox o
   SET status = 'confirmed', confirmed_at = :now, confirmed_by = m.seq
  FROM matched m
 WHERE o.outbox_id = m.outbox_id AND m.seq IS NOT NULL
RETURNING o.outbox_id, o.action_id
