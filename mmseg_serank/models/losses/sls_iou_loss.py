"""MSHNet scale and location sensitive loss (placeholder until the port lands)."""
__all__ = []
