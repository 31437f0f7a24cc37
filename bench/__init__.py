"""Benchmarks for ``make bench`` (not a Django app): see bench/run.py and README "Performance"."""
