"""Terraform's side door: the ``external`` data source protocol and the ``local-exec`` steps.

    python -m provider_helper.terraform           query JSON on stdin -> one flat JSON object of strings
    python -m provider_helper.terraform mirror    apply: settings from $NVCF_MIRROR_SETTINGS, copied
                                                  as nvcf-mirror mirror copies

The module creates and deletes the ECR repositories itself (aws_ecr_repository): nothing here
deletes anything.

The query's ``mode`` is ``plan`` (targets, repositories, resolved source digests, the copy trigger;
copies nothing) or ``status`` (the digests actually at the target). Credentials are never part
of a query or the settings: NGC_API_KEY and AWS come from the environment Terraform runs in.
On error: one line on stderr and a non-zero exit, as the external provider expects.
The query and the settings are read in terraform_settings.py; each mode calls its use case
(provider_helper.usecases) and prints its answer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
from collections.abc import Mapping
from typing import Any

from provider_helper import envvars, wording
from provider_helper import manifest as manifest_mod
from provider_helper.aws import ecr
from provider_helper.errors import InputError, RegistryError
from provider_helper.exits import ExitCode, outcome_of, results_code
from provider_helper.mirror.engine import EngineOptions
from provider_helper.mirror.plan import Job
from provider_helper.mirror.prune import PrunePlan
from provider_helper.oci.reference import parse_target
from provider_helper.progress import log_summary, setup_logging, summary_log
from provider_helper.quickexit import exit_now
from provider_helper.redact import RedactingFilter, shown
from provider_helper.results import document
from provider_helper.session import RunConfig
from provider_helper.terraform_settings import config_from, in_variables, read_query, repository_settings
from provider_helper.usecases.mirror import copy_to_target
from provider_helper.usecases.plan import resolve
from provider_helper.usecases.prune import prune
from provider_helper.usecases.status import status as digests_at_target

SETTINGS_ENV = "NVCF_MIRROR_SETTINGS"


def plan(config: RunConfig) -> dict[str, str]:
    """What a mirror would do, with the source digests it would copy: read-only."""
    jobs, results = resolve(config)
    failed = [r for r in results if r.status == "failed"]
    if failed:
        sources = wording.plural(len(failed), "source")
        raise RegistryError(f"{sources} could not be resolved; first: {failed[0].key}: {failed[0].error}")
    digests = {r.key: r.digest or "" for r in results}
    # What the copy step is replaced on: a moved tag shows in the plan's diff as that artifact's new digest.
    copy_trigger = _json(
        {r.key: f"{r.target}@{r.digest}" for r in results} | {"copy_signatures": str(config.signatures).lower()}
    )
    target = parse_target(config.target)
    ecr_host = ecr.parse_ecr_host(target.registry)
    return {
        "target": config.target,
        "registry": target.registry,
        "registry_account": (ecr_host.account or "") if ecr_host else "",
        "versions": _json({j.key: j.artifact.version_text or "" for j in jobs}),
        "repository_prefix": target.prefix,
        "copy_trigger": copy_trigger,
        # What module versions before the copy trigger replaced the copy step on: kept so they still plan.
        "fingerprint": hashlib.sha256(copy_trigger.encode()).hexdigest(),
        "count": str(len(results)),
        "repositories": _json(sorted({j.target.repository for j in jobs} | kept_repositories(config, jobs))),
        "targets": _json({r.key: r.target for r in results}),
        "source_digests": _json(digests),
    }


def kept_repositories(config: RunConfig, jobs: list[Job]) -> set[str]:
    """Repositories the selection no longer names but that exist and hold an artifact name of the manifest or
    of a bundled release (another release, a group left out): kept in the module's ``for_each``, so switching
    releases or groups plans new repositories and copies, never a removal. Other names under the prefix
    (``{prefix}/other-team-app``) are never part of it."""
    if config.access.kind != "ecr":
        return set()
    names = {a.name for a in manifest_mod.load(config.manifest, config.release).artifacts}
    for release in manifest_mod.releases():
        names |= {a.name for a in manifest_mod.load(release=release).artifacts}
    target = parse_target(config.target)
    candidates = {target.repository(name) for name in names} - {j.target.repository for j in jobs}
    return config.access.repositories().existing(candidates) if candidates else set()


def status(config: RunConfig) -> dict[str, str]:
    """What is at the target now: the digests Terraform outputs."""
    jobs, found = digests_at_target(config)
    target = parse_target(config.target)
    present = [j for j in jobs if found[j.key]]
    return {
        "target": config.target,
        "digests": _json({j.key: found[j.key] for j in present}),
        "image_uris": _json(_uris(present, found, "image")),
        "chart_refs": _json(_uris(present, found, "chart")),
        "repository_urls": _json({j.artifact.name: f"{target.registry}/{j.target.repository}" for j in jobs}),
        "missing": _json(sorted(j.key for j in jobs if not found[j.key])),
        "helm_values": config.helm_values(jobs),
    }


def _uris(jobs: list[Job], found: Mapping[str, str | None], kind: str) -> dict[str, str]:
    return {
        f"{j.artifact.name}:{j.target.tag}": f"{j.target.registry}/{j.target.repository}@{found[j.key]}"
        for j in jobs
        if j.artifact.type == kind
    }


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def apply(settings: Mapping[str, str]) -> int:
    """The apply step: the plan's selection copied by the orchestration ``nvcf-mirror mirror`` runs, with
    its progress lines and summary on stderr; 1 when an artifact failed."""
    config = config_from(settings)
    create = settings.get("create_repos", "true") == "true"
    repo_settings = repository_settings(settings) if create else ecr.RepositorySettings()
    setup_logging()
    results, seconds = copy_to_target(
        config, config.jobs(), EngineOptions(), create_repos=create, repo_settings=repo_settings
    )
    log_summary(document(config.target, results, seconds), results)
    code = results_code(results)
    # only after a copy that left nothing failed
    if code == ExitCode.DONE and settings.get("prune_superseded") == "true":
        prune_superseded(config)
    return code


def prune_superseded(config: RunConfig) -> None:
    """``prune_superseded = true``: what ``nvcf-mirror prune --yes`` removes, after the copy, through the same
    use case."""

    def logged(pruning: PrunePlan) -> bool:
        for removal in pruning.removals:
            summary_log.info("removing %s", removal.line())
        return True

    pruning, _ = prune(config, logged)
    referrers = len(pruning.removals) - pruning.tags
    summary_log.info("pruned %d superseded tags and %d referrers under %s", pruning.tags, referrers, config.target)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="nvcf-mirror: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter())
    wording.use(wording.TERRAFORM)
    try:
        envvars.check()
        if not argv:
            query = read_query(sys.stdin.read())
            config = config_from(query)
            answer = status(config) if query.get("mode") == "status" else plan(config)
            sys.stdout.write(json.dumps(answer) + "\n")
            return 0
        settings = read_query(os.environ.get(SETTINGS_ENV, "{}"))
        if argv == ["destroy"]:  # the destroy-time step of earlier module versions: it deleted the whole prefix
            sys.stderr.write(
                "nvcf-mirror: deleting nothing: repositories are removed by terraform destroy of the current module, "
                "which manages them as aws_ecr_repository resources\n"
            )
            return 0
        if argv != ["mirror"]:
            raise InputError(f"unknown step {' '.join(argv)!r}: expected mirror")
        return apply(settings)
    except (KeyboardInterrupt, InputError, RegistryError, OSError) as exc:
        outcome = outcome_of(exc, in_variables)
        assert outcome is not None  # each of these kinds has its code
        for line in outcome.lines:
            sys.stderr.write(f"nvcf-mirror: {shown(line)}\n")
        return outcome.code
    except Exception as exc:  # noqa: BLE001 -- one redacted line, never a traceback with a key in its locals or text
        sys.stderr.write(shown(f"nvcf-mirror: internal error: {type(exc).__name__}: {exc}") + "\n")
        return 1


def run() -> None:
    """What Terraform runs: ``main``, then an exit without the interpreter's teardown."""
    exit_now(main())


if __name__ == "__main__":
    run()
