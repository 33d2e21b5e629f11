"""A seeded differential of bad arguments: every option and argument nodetls checks at
creation, against Node v20's (see ``gen.py``)."""
