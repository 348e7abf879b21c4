"""The demo retail estate.

`simulator.estate` (what exists), `simulator.world` (the business over simulated time, as
canonical events per system with each system's publish cadence), `simulator.systems`
(their native shapes and storage), `simulator.server` and `simulator.service` (the
running simulator). `generate.py` is the plain event generator the benchmarks use.
"""
