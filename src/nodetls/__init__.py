"""nodetls (public API assembled once all layers land)."""
