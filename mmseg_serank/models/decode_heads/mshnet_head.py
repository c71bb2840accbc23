"""MSHNet decode head (placeholder until the port lands)."""
__all__ = []
