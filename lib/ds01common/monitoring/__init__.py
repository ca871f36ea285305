"""Seeing the server: the Prometheus exporter, the event log as a reader sees it (rotated files,
following it live, counting it), and GPU work that runs outside DS01.

Modules: `eventlog` (read every rotated file, follow across rotation, summaries and counters),
`snapshot` (one cheap look at DS01's state: one engine listing, one ledger read), `exporter`
(that snapshot as Prometheus metrics, served or written as a textfile).
"""
