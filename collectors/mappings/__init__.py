"""Mapping functions from native source records to canonical events (contracts/EVENTS.md).

One module per source shape, each with `to_events(record) -> list[dict]` that raises
`collectors.base.Unmappable` with a readable reason. `sim_*` map the demo simulator's
systems; `fieldmap` holds the declarative tables they share with the simulator.
"""
