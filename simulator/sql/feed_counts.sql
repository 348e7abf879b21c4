SELECT
    (SELECT count(*) FROM sim.oms_events) AS oms,
    (SELECT count(*) FROM sim.wms_transactions) AS wms,
    (SELECT count(*) FROM sim.mw_calls) AS middleware,
    (SELECT count(*) FROM sim.commands) AS commands
