"""Unit tests of provider_helper/terraform.py, the module's adapter: what its plan and status answers hold (the
copy trigger, kept repositories, the outputs), and how its front door ends (exit codes, wording, one redacted
line). Resolving and reading the target are stood in for where the answer's shape is the point (they read
registries; tests/terraform/test_module.py runs them for real through Terraform)."""

from __future__ import annotations

import hashlib
import io
import json
import os
from types import SimpleNamespace
from typing import Any

import pytest

from provider_helper import manifest as manifest_mod
from provider_helper import terraform
from provider_helper.redact import remember
from provider_helper.results import ArtifactResult

DIGEST_APP, DIGEST_STACK = "sha256:" + "a" * 64, "sha256:" + "c" * 64


def _job(key: str, kind: str, name: str, tag: str) -> Any:
    target = SimpleNamespace(registry="registry.example", repository=f"prefix/{name}", tag=tag)
    return SimpleNamespace(key=key, target=target, artifact=SimpleNamespace(name=name, type=kind, version_text=tag))


JOBS = [_job("image:app:1.2.0", "image", "app", "1.2.0"), _job("chart:stack:0.6.0", "chart", "stack", "0.6.0")]


def _results(digests: dict[str, str]) -> list[ArtifactResult]:
    return [
        ArtifactResult(
            j.key,
            j.artifact.type,
            "g",
            f"nvcr.io/org/{j.artifact.name}:{j.target.tag}",
            f"registry.example/prefix/{j.artifact.name}:{j.target.tag}",
            digest=digests[j.key],
        )
        for j in JOBS
    ]


def _plan(monkeypatch: pytest.MonkeyPatch, digests: dict[str, str], signatures: bool = True) -> dict[str, str]:
    config = SimpleNamespace(
        target="registry.example/prefix", signatures=signatures, access=SimpleNamespace(kind="registry")
    )
    monkeypatch.setattr(terraform, "resolve", lambda config: (JOBS, _results(digests)))
    return terraform.plan(config)  # type: ignore[arg-type]


def test_the_copy_trigger_maps_each_artifact_to_target_at_source_digest_and_copy_signatures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """README Terraform: "the copy step's trigger is a map of artifact => `target@source-digest`"; module README:
    "(and `copy_signatures`)". The whole trigger, for both values of copy_signatures."""
    digests = {"image:app:1.2.0": DIGEST_APP, "chart:stack:0.6.0": DIGEST_STACK}
    answer = _plan(monkeypatch, digests)
    assert json.loads(answer["copy_trigger"]) == {
        "image:app:1.2.0": f"registry.example/prefix/app:1.2.0@{DIGEST_APP}",
        "chart:stack:0.6.0": f"registry.example/prefix/stack:0.6.0@{DIGEST_STACK}",
        "copy_signatures": "true",
    }
    assert answer["fingerprint"] == hashlib.sha256(answer["copy_trigger"].encode()).hexdigest()
    unsigned = _plan(monkeypatch, digests, signatures=False)
    assert json.loads(unsigned["copy_trigger"])["copy_signatures"] == "false"
    assert unsigned["copy_trigger"] != answer["copy_trigger"], "copy_signatures = false replaces the copy step"


def test_a_moved_source_tag_changes_that_artifacts_trigger_entry_to_its_new_digest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """README Terraform: "After a source tag moves, `terraform plan` names the artifact and its new digest": only
    the moved artifact's entry changes, and it holds the new digest."""
    before = json.loads(
        _plan(monkeypatch, {"image:app:1.2.0": DIGEST_APP, "chart:stack:0.6.0": DIGEST_STACK})["copy_trigger"]
    )
    moved = "sha256:" + "b" * 64
    after = json.loads(
        _plan(monkeypatch, {"image:app:1.2.0": moved, "chart:stack:0.6.0": DIGEST_STACK})["copy_trigger"]
    )
    changed = {key for key in after if after[key] != before.get(key)}
    assert changed == {"image:app:1.2.0"}
    assert after["image:app:1.2.0"].endswith("@" + moved)


class _Repositories:
    """ECR's answer to "which of these exist" (boto3 against ECR; the module test asks moto for real)."""

    def __init__(self, existing: set[str]) -> None:
        self.existing_names = existing
        self.asked: set[str] = set()

    def existing(self, candidates: set[str]) -> set[str]:
        self.asked |= candidates
        return candidates & self.existing_names


def test_the_plan_keeps_existing_repositories_of_another_bundled_release(monkeypatch: pytest.MonkeyPatch) -> None:
    """Module README, Releases: "the plan keeps in `aws_ecr_repository.this` every repository that exists under
    the prefix and holds an artifact name of the manifest or of a bundled release"; never another name under
    the prefix (`{prefix}/other-team-app`)."""
    releases = manifest_mod.releases()
    assert len(releases) >= 2, releases
    selected = {a.name for a in manifest_mod.load(release=releases[0]).artifacts}
    others = {a.name for r in releases[1:] for a in manifest_mod.load(release=r).artifacts} - selected
    assert others, "a later bundled release names an artifact the first does not"
    only_later = sorted(others)[0]
    repositories = _Repositories({f"prefix/{only_later}", "prefix/other-team-app"})
    access = SimpleNamespace(kind="ecr", repositories=lambda: repositories)
    config = SimpleNamespace(target="registry.example/prefix", manifest=None, release=releases[0], access=access)
    kept = terraform.kept_repositories(config, JOBS)  # type: ignore[arg-type]
    assert kept == {f"prefix/{only_later}"}
    assert "prefix/other-team-app" not in repositories.asked
    assert not {"prefix/app", "prefix/stack"} & repositories.asked, "the selection's own repositories are planned"


def _status(monkeypatch: pytest.MonkeyPatch, found: dict[str, str | None]) -> dict[str, str]:
    config = SimpleNamespace(target="registry.example/prefix", helm_values=lambda jobs: "")
    monkeypatch.setattr(terraform, "digests_at_target", lambda config: (JOBS, found))
    return terraform.status(config)  # type: ignore[arg-type]


def test_the_missing_output_names_the_selected_artifacts_not_at_the_target(monkeypatch: pytest.MonkeyPatch) -> None:
    """Module README, Outputs: "`missing` | Selected artifacts not at the target"; an artifact that is there is
    not in it, and everything there leaves it empty."""
    answer = _status(monkeypatch, {"image:app:1.2.0": DIGEST_APP, "chart:stack:0.6.0": None})
    assert json.loads(answer["missing"]) == ["chart:stack:0.6.0"]
    assert json.loads(answer["digests"]) == {"image:app:1.2.0": DIGEST_APP}
    everything = _status(monkeypatch, {"image:app:1.2.0": DIGEST_APP, "chart:stack:0.6.0": DIGEST_STACK})
    assert json.loads(everything["missing"]) == []


def test_the_repository_urls_output_maps_each_name_to_registry_prefix_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """Module README, Outputs: "`repository_urls` | `name => "registry/prefix/name"`", for artifacts at the target
    and those still missing alike."""
    answer = _status(monkeypatch, {"image:app:1.2.0": DIGEST_APP, "chart:stack:0.6.0": None})
    assert json.loads(answer["repository_urls"]) == {
        "app": "registry.example/prefix/app",
        "stack": "registry.example/prefix/stack",
    }


def _main(monkeypatch: pytest.MonkeyPatch, argv: list[str], query: dict[str, str] | None = None) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(query or {})))
    return terraform.main(argv)


def test_the_adapter_exits_with_the_clis_codes_2_for_bad_input_and_130_for_an_interruption(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """CONTRACTS, Exit codes: "Held by `provider_helper/exits.py` (`ExitCode`), the same for the CLI and the
    Terraform adapter": bad input is 2 with one line, Ctrl-C 130."""
    assert _main(monkeypatch, ["nonsense"]) == 2
    err = capsys.readouterr().err
    assert err == "nvcf-mirror: unknown step 'nonsense': expected mirror\n", err

    def interrupted(settings: Any) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(terraform, "apply", interrupted)
    assert _main(monkeypatch, ["mirror"]) == 130
    assert "interrupted" in capsys.readouterr().err


def test_the_adapters_messages_name_the_module_variables_not_the_cli_flags(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Module README: "every message that names a setting uses the module's variables (`repository_prefix`,
    `ca_file`), never the CLI's flags". A manifest_path beside a release: refused before any request, in the
    module's words."""
    query = {
        "mode": "plan",
        "target_registry": "registry.example",
        "target_type": "generic",
        "manifest_path": "/nonexistent/manifest.yaml",
        "release": manifest_mod.releases()[-1],
    }
    assert _main(monkeypatch, [], query) == 2
    err = capsys.readouterr().err
    assert err == "nvcf-mirror: manifest_path and release exclude each other: name a file or a bundled release\n", err
    assert "--" not in err


def test_an_unexpected_error_in_the_adapter_is_one_line_without_the_key_it_learnt(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """README Security: "An error nobody expected is one redacted line, from the CLI and from the Terraform adapter
    alike, never a traceback": a remembered NGC key and a line break in the error's text do not reach stderr."""
    key = "nvapi-" + os.urandom(8).hex()
    remember(key)

    def broken(query: Any) -> Any:
        raise RuntimeError(f"the key {key} was here\nTraceback (most recent call last):")

    monkeypatch.setattr(terraform, "config_from", broken)
    assert _main(monkeypatch, [], {"mode": "plan"}) == 1
    err = capsys.readouterr().err
    escaped = "\\nTraceback (most recent call last):"
    assert err == f"nvcf-mirror: internal error: RuntimeError: the key <redacted> was here{escaped}\n", err
