"""The control plane: ``/_mock/…`` routes on every API port, and a Python client for them."""
