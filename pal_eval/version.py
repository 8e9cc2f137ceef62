"""The package version (on the ground floor: feature metadata records it)."""
__version__ = '0.1.0'
