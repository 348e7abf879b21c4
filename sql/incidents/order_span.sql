-- An order's life: its first and last order event (time, from the process projection
-- order_process, migration 0017, by primary key), for the range of an incident opened
-- from one of its exceptions (app/incidents/records.py). No row: no order event stored.
SELECT first_time, last_time FROM order_process WHERE order_id = :order_id
