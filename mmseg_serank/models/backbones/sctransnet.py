"""SCTransNet backbone (placeholder until the port lands)."""
__all__ = []
