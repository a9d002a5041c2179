"""Benchmark harness: build, update, query speed and relevance of procsearch against two baselines.

Run with ``python -m benchmarks.run`` (see benchmarks/README.md).
"""
