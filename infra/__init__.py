"""Persistence and wiring: the eventsourcing Application, SQLite/PostgreSQL settings, the bulk
writer, the projection runner, policy loading, and the command services."""
