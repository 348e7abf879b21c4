"""The demo estate's source systems, each exposing what the world emits in its own shape.

`oms`, `wms`, `middleware`: JSON feeds in schema `sim`, served over HTTP by
`simulator.server`; `erp`: tables in schema `erp`; `pos`, `marketplace`: files dropped
in a folder with ready markers. `publisher` hands each system its records in publish
order. The shapes are the mapping tables of `collectors.mappings.sim_*`, used backwards.
"""
