"""Fuzz harnesses for nodetls (see docs/fuzzing.md): ``python -m fuzz.run NAME``."""
