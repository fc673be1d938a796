"""Pure business logic of shebao-ledger: aggregates, events, value objects, policy tables.

Nothing here does I/O, reads the clock or reads settings: time, ids and policy are passed in.
"""
