"""Shared test helpers: certificates (``certs``) and real peers in other processes (``peers``)."""
