"""rawexport: a self-hosted implementation of the devtodev RAW export API."""

__all__ = ["__version__"]

__version__ = "0.1.0"
