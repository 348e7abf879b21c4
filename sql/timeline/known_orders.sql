-- Which of these ids are orders the store knows (order_facts).
SELECT order_id FROM order_facts WHERE order_id = ANY(CAST(:ids AS text[])) ORDER BY order_id
