"""Read models: each turns pages of events into rows, with its tracking position stored in the
same transaction as its rows, and can be rebuilt from zero (infra/projection_runner.py runs
them)."""
