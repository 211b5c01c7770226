"""Benchmarks and crash tests, run by hand or by CI: `python -m bench.<name>` (see README.md)."""
