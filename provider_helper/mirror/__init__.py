"""From a selection of artifacts to bytes at the target: plan, then copy."""
