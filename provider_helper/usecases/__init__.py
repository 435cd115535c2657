"""One module per use case: plan, mirror, save and load (bundles), verify, status, resources push, prune.

Each takes the settings record (``session.RunConfig``) and returns results; the CLI and the Terraform
adapter parse, call and print. ``preflight`` and ``wiring`` are the steps they share: every registry
checked before anything is pushed, and registries, payloads and the copy engine wired together.
"""
