"""The benchmark harness behind ``benchmarks/bench.py`` (not part of the nodetls package)."""
