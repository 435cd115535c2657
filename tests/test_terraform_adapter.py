"""terraform.py, the module's adapter: when its apply step prunes. The decision is the adapter's own, so
the copy and the prune are stood in for here (the module test runs them for real through Terraform)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from helpers import ProcessState, write_manifest

from provider_helper import terraform
from provider_helper.aws.ecr import RepositorySettings
from provider_helper.errors import DeniedError
from provider_helper.redact import remember
from provider_helper.results import ArtifactResult, Status
from provider_helper.sandbox.aws import REGION
from provider_helper.sandbox.stack import Sandbox
from provider_helper.session import RunConfig


def _apply(monkeypatch: pytest.MonkeyPatch, statuses: list[Status], prune: str) -> tuple[int, list[Any]]:
    pruned: list[Any] = []
    config = SimpleNamespace(target="registry.example/prefix", jobs=lambda: [])
    results = [
        ArtifactResult(f"image:app{n}:1.0", "image", "g", f"nvcr.io/org/app{n}:1.0", "t", status=s)
        for n, s in enumerate(statuses)
    ]
    monkeypatch.setattr(terraform, "config_from", lambda settings: config)
    monkeypatch.setattr(terraform, "setup_logging", lambda: None)
    monkeypatch.setattr(terraform, "copy_to_target", lambda *args, **kwargs: (results, 0.1))
    monkeypatch.setattr(terraform, "prune_superseded", pruned.append)
    code = terraform.apply({"create_repos": "false", "prune_superseded": prune})
    return code, pruned


def test_prune_superseded_runs_after_a_copy_in_which_nothing_failed_and_only_then(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """README Upgrading: "In Terraform, prune_superseded = true runs the same prune after every copy in which
    nothing failed.\""""
    code, pruned = _apply(monkeypatch, ["copied", "present"], "true")
    assert code == 0 and len(pruned) == 1
    code, pruned = _apply(monkeypatch, ["copied", "failed"], "true")
    assert code == 1 and pruned == [], "a copy in which an artifact failed prunes nothing"
    code, pruned = _apply(monkeypatch, ["copied"], "false")
    assert code == 0 and pruned == [], "prune_superseded defaults to off"


def _job(key: str, kind: str, name: str, tag: str, version: str) -> Any:
    target = SimpleNamespace(registry="registry.example", repository=f"prefix/{name}", tag=tag)
    return SimpleNamespace(key=key, target=target, artifact=SimpleNamespace(name=name, type=kind, version_text=version))


JOBS = [
    _job("image:app:1.2.0", "image", "app", "1.2.0", "1.2.0"),
    _job("chart:stack:0.6.0", "chart", "stack", "0.6.0", "0.6.0"),
]
DIGESTS = {"image:app:1.2.0": "sha256:" + "a" * 64, "chart:stack:0.6.0": "sha256:" + "c" * 64}


def test_the_status_outputs_hold_digest_pinned_references(monkeypatch: pytest.MonkeyPatch) -> None:
    """README Terraform: "the outputs hold digest-pinned references (`image_uris`, `chart_refs`, `digests`,
    ...)". The adapter builds them from what the status step found; that step is stood in for (it reads a
    registry; the module test runs it for real), so this test is of the outputs' shape alone."""
    config = SimpleNamespace(target="registry.example/prefix", helm_values=lambda jobs: "")
    monkeypatch.setattr(terraform, "digests_at_target", lambda config: (JOBS, DIGESTS))
    answer = terraform.status(config)  # type: ignore[arg-type]
    assert json.loads(answer["image_uris"]) == {
        "app:1.2.0": f"registry.example/prefix/app@{DIGESTS['image:app:1.2.0']}"
    }
    assert json.loads(answer["chart_refs"]) == {
        "stack:0.6.0": f"registry.example/prefix/stack@{DIGESTS['chart:stack:0.6.0']}"
    }
    assert json.loads(answer["digests"]) == DIGESTS


def test_the_plan_shows_the_resolved_versions_in_the_versions_output(monkeypatch: pytest.MonkeyPatch) -> None:
    """README Versions: "Terraform takes the same pins as `set_versions = { nvcf-base = "latest" }` and its plan
    shows the resolved versions in the `versions` output". Resolving is stood in for (it reads the sources;
    the module test plans for real): this is the output the adapter builds from the resolved jobs."""
    results = [
        ArtifactResult(
            j.key, j.artifact.type, "g", f"nvcr.io/org/{j.artifact.name}", f"t/{j.key}", digest=DIGESTS[j.key]
        )
        for j in JOBS
    ]
    config = SimpleNamespace(target="registry.example/prefix", signatures=True, access=SimpleNamespace(kind="registry"))
    monkeypatch.setattr(terraform, "resolve", lambda config: (JOBS, results))
    answer = terraform.plan(config)  # type: ignore[arg-type]
    assert json.loads(answer["versions"]) == {"image:app:1.2.0": "1.2.0", "chart:stack:0.6.0": "0.6.0"}


def _status(monkeypatch: pytest.MonkeyPatch, found: Mapping[str, str | None]) -> dict[str, str]:
    config = SimpleNamespace(target="registry.example/prefix", helm_values=lambda jobs: "values")
    monkeypatch.setattr(terraform, "digests_at_target", lambda config: (JOBS, found))
    return terraform.status(config)  # type: ignore[arg-type]


def test_digests_hold_what_is_present_and_missing_what_is_not(monkeypatch: pytest.MonkeyPatch) -> None:
    """module README outputs: ``digests`` "for every artifact present at the target", ``missing`` "Selected artifacts
    not at the target", ``repository_urls`` ``name => "registry/prefix/name"`` for every selected one."""
    answer = _status(monkeypatch, {"image:app:1.2.0": DIGESTS["image:app:1.2.0"], "chart:stack:0.6.0": None})
    assert json.loads(answer["digests"]) == {"image:app:1.2.0": DIGESTS["image:app:1.2.0"]}
    assert json.loads(answer["missing"]) == ["chart:stack:0.6.0"]
    assert json.loads(answer["chart_refs"]) == {}
    assert json.loads(answer["repository_urls"]) == {
        "app": "registry.example/prefix/app",
        "stack": "registry.example/prefix/stack",
    }
    assert answer["target"] == "registry.example/prefix" and answer["helm_values"] == "values"
    assert all(isinstance(v, str) for v in answer.values()), "the external data source takes strings only"
    answer = _status(monkeypatch, DIGESTS)
    assert json.loads(answer["missing"]) == []


def _plan(monkeypatch: pytest.MonkeyPatch, target: str, signatures: bool = True) -> dict[str, str]:
    results = [
        ArtifactResult(
            j.key, j.artifact.type, "g", f"nvcr.io/org/{j.artifact.name}", f"{target}/{j.key}", digest=DIGESTS[j.key]
        )
        for j in JOBS
    ]
    config = SimpleNamespace(target=target, signatures=signatures, access=SimpleNamespace(kind="registry"))
    monkeypatch.setattr(terraform, "resolve", lambda config: (JOBS, results))
    return terraform.plan(config)  # type: ignore[arg-type]


def test_the_plan_names_the_registry_host_and_the_prefix_and_the_copy_trigger(monkeypatch: pytest.MonkeyPatch) -> None:
    """module README outputs: ``registry`` "The registry host mirrored to", ``repository_prefix`` "The prefix
    mirrored under"; the copy step's trigger is "a map of artifact => target@source-digest (and copy_signatures)"."""
    answer = _plan(monkeypatch, "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/cluster")
    assert answer["registry"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com"
    assert answer["repository_prefix"] == "team/cluster"
    assert answer["registry_account"] == "123456789012"
    assert answer["count"] == "2"
    assert json.loads(answer["copy_trigger"]) == {
        **{k: f"123456789012.dkr.ecr.us-east-1.amazonaws.com/team/cluster/{k}@{d}" for k, d in DIGESTS.items()},
        "copy_signatures": "true",
    }
    assert json.loads(answer["source_digests"]) == DIGESTS
    answer = _plan(monkeypatch, "harbor.example", signatures=False)
    assert (answer["registry"], answer["repository_prefix"], answer["registry_account"]) == ("harbor.example", "", "")
    assert json.loads(answer["copy_trigger"])["copy_signatures"] == "false"


def _main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str], query: dict[str, str]
) -> tuple[int, str, list[str]]:
    saved = ProcessState.save()
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(query)))
    try:
        code = terraform.main(argv)
    finally:
        saved.restore()
    captured = capsys.readouterr()
    return code, captured.out, captured.err.splitlines()


GENERIC = {"target_registry": "registry.example", "target_type": "generic", "repository_prefix": "prefix"}


def test_the_query_mode_chooses_plan_or_status_and_the_answer_is_one_json_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(terraform, "plan", lambda config: {"mode": "plan", "target": config.target})
    monkeypatch.setattr(terraform, "status", lambda config: {"mode": "status", "target": config.target})
    for mode in ("plan", "status"):
        assert _main(monkeypatch, capsys, [], {**GENERIC, "mode": mode}) == (
            0,
            json.dumps({"mode": mode, "target": "registry.example/prefix"}) + "\n",
            [],
        )
    assert _main(monkeypatch, capsys, [], GENERIC)[1].startswith('{"mode": "plan"'), "plan when no mode is given"


def test_an_unexpected_error_in_the_adapter_is_one_redacted_line_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """README Security: "An error nobody expected is one redacted line, from the CLI and from the Terraform adapter
    alike, never a traceback"."""

    def broken(config: object) -> None:
        remember("s3cr3t-token-value")
        raise RuntimeError("boom at https://user:pw@host.example/x with s3cr3t-token-value\nsecond line")

    monkeypatch.setattr(terraform, "plan", broken)
    assert _main(monkeypatch, capsys, [], GENERIC) == (
        1,
        "",
        [
            "nvcf-mirror: internal error: RuntimeError: boom at https://<redacted>@host.example/x with <redacted>"
            "\\nsecond line"
        ],
    )


def test_the_steps_are_mirror_and_the_old_destroy_which_deletes_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """module README: "A module of the old version run with this package deletes nothing either: its destroy step now
    only says so"; any other step is bad input."""
    assert _main(monkeypatch, capsys, ["destroy"], {}) == (
        0,
        "",
        [
            "nvcf-mirror: deleting nothing: repositories are removed by terraform destroy of the current module, "
            "which manages them as aws_ecr_repository resources"
        ],
    )
    assert _main(monkeypatch, capsys, ["copy"], {}) == (2, "", ["nvcf-mirror: unknown step 'copy': expected mirror"])


def test_the_apply_step_reads_its_settings_from_nvcf_mirror_settings_and_copies_as_mirror_does(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """README env: "NVCF_MIRROR_SETTINGS | set by the Terraform module for its apply step (JSON of values, never
    secrets)"; the module sends create_repos "false" (it manages the repositories), earlier module versions sent the
    repository settings, which still apply."""
    applied: list[dict[str, Any]] = []

    def copy(
        config: Any, jobs: Any, options: Any, *, create_repos: bool, repo_settings: Any
    ) -> tuple[list[Any], float]:
        applied.append({"target": config.target, "create": create_repos, "settings": repo_settings})
        return [], 0.1

    monkeypatch.setattr(terraform, "copy_to_target", copy)
    monkeypatch.setattr(terraform, "setup_logging", lambda: None)
    monkeypatch.setattr(RunConfig, "jobs", lambda self: [])
    monkeypatch.setenv(terraform.SETTINGS_ENV, json.dumps({**GENERIC, "create_repos": "false"}))
    assert terraform.SETTINGS_ENV == "NVCF_MIRROR_SETTINGS"
    assert _main(monkeypatch, capsys, ["mirror"], {})[0] == 0
    monkeypatch.setenv(terraform.SETTINGS_ENV, json.dumps({**GENERIC, "scan_on_push": "false"}))
    assert _main(monkeypatch, capsys, ["mirror"], {})[0] == 0
    assert applied == [
        {"target": "registry.example/prefix", "create": False, "settings": RepositorySettings()},
        {"target": "registry.example/prefix", "create": True, "settings": RepositorySettings(scan_on_push=False)},
    ]


def test_the_plan_keeps_existing_repositories_of_known_names_and_never_another_teams(
    sandbox: Sandbox, ns: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """README Terraform: "the plan keeps every existing repository under the prefix that holds an artifact name of the
    manifest or of a bundled release in the module's repositories (other names under the prefix are never touched)".
    Real parts: moto as ECR."""
    for key, value in sandbox.aws.env().items():
        monkeypatch.setenv(key, value)
    ecr = boto3.client("ecr", region_name=REGION, endpoint_url=sandbox.aws.url)
    for name in ("nvcf-openbao", "other-team-app", "mine"):
        ecr.create_repository(repositoryName=f"{ns}/{name}")
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"type": "image", "source": "nvcr.io/org/t/mine:1", "group": "test"}]
    )
    config = RunConfig(
        target=f"{sandbox.target.host}/{ns}", target_type="ecr", manifest=str(manifest), aws_region=REGION
    )
    jobs = config.jobs(resolve_versions=False)
    assert terraform.kept_repositories(config, jobs) == {f"{ns}/nvcf-openbao"}, "a v0.5 name: kept; another team's: not"
    generic = RunConfig(target=f"{sandbox.target.host}/{ns}", target_type="generic", manifest=str(manifest))
    assert terraform.kept_repositories(generic, jobs) == set(), "only ECR repositories are the module's resources"


def test_a_plan_whose_sources_could_not_be_resolved_fails_with_one_line_naming_the_first(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The plan copies nothing and answers only what it resolved: an artifact it could not resolve fails the plan,
    exit 1, with how many and the first of them (not one line per artifact)."""
    results = [
        ArtifactResult(
            j.key, j.artifact.type, "g", f"nvcr.io/org/{j.artifact.name}", "t", status="failed", error="gone"
        )
        for j in JOBS
    ]
    monkeypatch.setattr(terraform, "resolve", lambda config: (JOBS, results))
    assert _main(monkeypatch, capsys, [], GENERIC) == (
        1,
        "",
        ["nvcf-mirror: 2 sources could not be resolved; first: image:app:1.2.0: gone"],
    )
    monkeypatch.setattr(terraform, "resolve", lambda config: (JOBS, results[1:]))
    assert _main(monkeypatch, capsys, [], GENERIC)[2] == [
        "nvcf-mirror: 1 source could not be resolved; first: chart:stack:0.6.0: gone"
    ]


def test_the_adapters_log_lines_start_nvcf_mirror_and_the_apply_ends_with_the_summary(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """CONTRACTS: "Every error is one line on standard error starting nvcf-mirror:" (the adapter's log lines too);
    terraform.apply: the copy "with its progress lines and summary on stderr"."""
    saved = ProcessState.save()
    try:
        logging.getLogger().handlers[:] = []  # as in the adapter's own process, where basicConfig installs its handler

        def noted(config: object) -> dict[str, str]:
            logging.getLogger("nvcf-mirror").warning("a note for the plan")
            return {}

        monkeypatch.setattr(terraform, "plan", noted)
        monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(GENERIC)))
        assert terraform.main([]) == 0
        assert capsys.readouterr().err.splitlines() == ["nvcf-mirror: a note for the plan"]
    finally:
        saved.restore()
    results = [ArtifactResult("image:a:1", "image", "g", "nvcr.io/o/a:1", "t/a:1", status="copied", bytes_copied=2048)]
    monkeypatch.setattr(terraform, "copy_to_target", lambda *args, **kwargs: (results, 1.0))
    monkeypatch.setattr(RunConfig, "jobs", lambda self: [])
    saved = ProcessState.save()
    try:
        assert terraform.apply({**GENERIC, "create_repos": "false"}) == 0
    finally:
        saved.restore()
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].endswith(
        " nvcf-mirror: 1 copied, 0 present, 0 failed, 0 skipped; 2.0 KiB in 1.0s"
    )


def test_ctrl_c_and_a_bad_numeric_setting_end_the_adapter_as_they_end_the_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """CONTRACTS Exit codes (the same for the CLI and the Terraform adapter): "130 | interrupted (Ctrl-C)"; README
    env: "a numeric one that is not a number is one line, exit 2, before anything runs"."""

    def interrupted(config: object) -> dict[str, str]:
        raise KeyboardInterrupt

    monkeypatch.setattr(terraform, "plan", interrupted)
    assert _main(monkeypatch, capsys, [], GENERIC) == (
        130,
        "",
        ["nvcf-mirror: interrupted; no tag was written for unfinished artifacts"],
    )
    monkeypatch.setattr(terraform, "plan", lambda config: {})
    monkeypatch.setenv("NVCF_MIRROR_PROGRESS_INTERVAL", "ten")
    assert _main(monkeypatch, capsys, [], GENERIC) == (
        2,
        "",
        ["nvcf-mirror: NVCF_MIRROR_PROGRESS_INTERVAL='ten': expected a number, 0 or more"],
    )


def test_an_error_line_of_the_adapter_never_shows_a_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """CONTRACTS Terraform: the adapter "never puts a credential in a query, an answer or state"; README Security:
    secrets are replaced by <redacted> in error lines, "from the CLI and from the Terraform adapter alike"."""

    def refused(config: object) -> dict[str, str]:
        remember("s3cr3t-token-value")
        raise DeniedError("s3cr3t-token-value was refused by https://user:pw@registry.example/v2/")

    monkeypatch.setattr(terraform, "plan", refused)
    assert _main(monkeypatch, capsys, [], GENERIC) == (
        1,
        "",
        ["nvcf-mirror: <redacted> was refused by https://<redacted>@registry.example/v2/"],
    )


def test_the_plans_repositories_keep_the_existing_ones_of_known_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """README Terraform: switching releases or leaving a group out "plans the new release's repositories and a copy
    and removes nothing": the repositories the module manages are the selection's and the kept ones (which
    kept_repositories finds; its own test runs against moto)."""
    monkeypatch.setattr(terraform, "kept_repositories", lambda config, jobs: {"prefix/nvcf-openbao"})
    answer = _plan(monkeypatch, "registry.example/prefix")
    assert json.loads(answer["repositories"]) == ["prefix/app", "prefix/nvcf-openbao", "prefix/stack"]
