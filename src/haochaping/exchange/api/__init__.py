"""Exchange's API: batch intake (``/batch/…``) and the upper node's side of reporting (``/exchange/…``)."""

from .batch import router as batch_router
from .nodes import health_router
from .nodes import router as node_router

__all__ = ["batch_router", "health_router", "node_router"]
