"""UIU-Net backbone (placeholder until the port lands)."""
__all__ = []
