"""Entry point for ``python -m yloft_relay`` (the relay itself is not built yet)."""
