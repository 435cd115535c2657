"""How each front door names a run's settings. Domain code never writes a flag: it names a setting
with ``setting("create_repos")``, which reads ``--create-repos`` on the CLI and ``create_sm_ecr_repos``
in the Terraform module. A front door calls ``use`` once, at its start (each is its own process)."""

from __future__ import annotations

CLI, TERRAFORM = "cli", "terraform"

# setting: (the CLI's words, the Terraform module's words; None where the module has no such setting)
SETTINGS: dict[str, tuple[str, str | None]] = {
    "target": ("--target", "target_registry/repository_prefix"),
    "aws_region": ("--aws-region", "aws_region"),
    "create_repos": ("--create-repos", "create_sm_ecr_repos"),
    "insecure_registries": ("--insecure-registry", "insecure_registries"),
    "ca_file": ("--ca-file", "ca_file"),
    "set_versions": ("--set-version", "set_versions"),
    "manifest": ("--manifest", "manifest_path"),
    "release": ("--release", "release"),
    "source_map": ("--source-map", "source_map"),
    "source_registry": ("--source-registry", "source_registry"),
    "groups": ("--group", "groups"),
    "excludes": ("--exclude", "exclude"),
    "platforms": ("--platform", "platforms"),
    "encryption": ("--encryption", "encryption_type"),
    "kms_key": ("--kms-key", "kms_key"),
    "all_platforms": ("--all-platforms", 'platforms = ["all"]'),
    "all_groups": ("--all-groups", None),
    "no_signatures": ("--no-signatures", "copy_signatures = false"),
    "max_extract_bytes": ("--max-extract-bytes", None),
    "max_extract_ratio": ("--max-extract-ratio", None),
    "target_username": ("--target-username", None),
    "password_stdin": ("--password-stdin", None),
    "archive_size": ("--archive-size", None),
    "max_extract_members": ("--max-extract-members", None),
}

_door = CLI


def use(door: str) -> None:
    global _door
    _door = door


def setting(name: str) -> str:
    """``name`` in the words of the front door in use."""
    cli, terraform = SETTINGS[name]
    return terraform if _door == TERRAFORM and terraform is not None else cli


def plural(n: int, one: str, many: str | None = None) -> str:
    """``n`` and the noun in the number it takes: "1 group", "2 groups", "1 repository", "3 repositories"."""
    return f"{n} {one if n == 1 else (many or one + 's')}"
