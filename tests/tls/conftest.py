"""Fixtures for the tls tests (each test closes the sockets it opens: tests/conftest.py's
autouse check)."""
