"""Benchmarks: each module has a main() that prints what it measured, with ratios against a baseline."""
