"""UIU-Net decode head (placeholder until the port lands)."""
__all__ = []
