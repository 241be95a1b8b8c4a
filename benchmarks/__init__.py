"""Benchmarks and the soak test: `python -m benchmarks --help`."""
