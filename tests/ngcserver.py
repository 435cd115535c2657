"""The NGC stand-in moved to provider_helper/sandbox/ngcserver.py (the demo and the walk-through use it too)."""

from provider_helper.sandbox.ngcserver import NgcStandIn

__all__ = ["NgcStandIn"]
