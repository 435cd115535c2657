"""The nvcf-mirror Terraform module against real Terraform core, moto (ECR/STS) and local registries."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from helpers import run_cli, sha256, skopeo_raw, write_manifest

from provider_helper import manifest as manifest_mod
from provider_helper.sandbox.aws import ECR_USER, REGION
from provider_helper.sandbox.images import Factory
from provider_helper.sandbox.stack import Sandbox, seed

REPO = Path(__file__).resolve().parents[2]


def _variables(sandbox: Sandbox, ns: str, manifest: Path, **extra: object) -> dict[str, Any]:
    return {
        "create_sm_ecr_repos": True,
        "cluster_name": ns,
        "aws_region": REGION,
        "manifest_path": str(manifest),
        "python": sys.executable,
        "source_registry": sandbox.source.host,
        "target_registry": sandbox.target.host,
        **extra,
    }


@pytest.fixture
def nvcf_like(sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path) -> dict[str, Any]:
    _, children = source.index(f"{ns}/nvidia/nvcf-openbao", "2.5.1-nv-1.1.0")
    signature = source.cosign(f"{ns}/nvidia/nvcf-openbao", children["linux/amd64"])
    chart = source.chart(f"{ns}/nvidia/gdn-streaming", "2.0.1")
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [
            {"type": "image", "source": f"nvcr.io/{ns}/nvidia/nvcf-openbao:2.5.1-nv-1.1.0", "group": "test"},
            {"type": "chart", "source": f"nvcr.io/{ns}/nvidia/gdn-streaming:2.0.1", "group": "test"},
        ],
    )
    return {
        "manifest": manifest,
        "image": children["linux/amd64"].digest,
        "chart": chart.digest,
        "signature": signature.digest,
    }


def _target_digest(sandbox: Sandbox, ref: str) -> str:
    return sha256(skopeo_raw(f"{sandbox.target.host}/{ref}", authfile=sandbox.docker_config / "config.json"))


# Longest first: the suite starts the Terraform tests before all others, in this file's order
# (tests/conftest.py), so a long one never starts last.
@pytest.mark.one_terraform
def test_one_root_through_its_life_plans_only_what_each_change_needs_and_destroys_only_its_own(
    sandbox: Sandbox, source: Factory, nvcf_like: dict[str, Any], ns: str, terraform_root: Any
) -> None:
    """One root through its life, as a user runs it: copy_signatures turned on, a source tag moved, a
    repository deleted and an image removed outside Terraform (each shows in the next plan; apply copies
    again or re-creates, nothing is deleted), then destroy: stopped by a repository holding images until
    delete_repositories_on_destroy is set, then removing exactly the module's repositories."""
    ecr = boto3.client("ecr", region_name=REGION, **_moto(sandbox))
    ecr.create_repository(repositoryName=f"{ns}/other-team-app")  # under the prefix, not the module's
    ecr.create_repository(repositoryName=f"{ns}-decoy/keep")  # a prefix that merely starts the same
    signature_tag = nvcf_like["image"].replace(":", "-") + ".sig"
    variables = _variables(sandbox, ns, nvcf_like["manifest"], copy_signatures=False)
    tf = terraform_root(variables, sandbox.ecr_env())
    tf.apply()
    assert _target_digest(sandbox, f"{ns}/nvcf-openbao:2.5.1-nv-1.1.0") == nvcf_like["image"]
    with pytest.raises(LookupError):
        _target_digest(sandbox, f"{ns}/nvcf-openbao:{signature_tag}")
    before = _created(sandbox, ns)
    # the module's defaults, none of them set above: scan_on_push, image_tag_mutability, encryption_type
    made = ecr.describe_repositories(repositoryNames=[f"{ns}/nvcf-openbao"])["repositories"][0]
    assert made["imageScanningConfiguration"] == {"scanOnPush": True} and made["imageTagMutability"] == "MUTABLE"
    assert made["encryptionConfiguration"]["encryptionType"] == "AES256"

    tf.set_variables({**variables, "copy_signatures": True})
    code, text = tf.plan_exit_code()
    assert code == 2 and "terraform_data.mirror[0] must be replaced" in text, text
    tf.apply_plan()
    assert _target_digest(sandbox, f"{ns}/nvcf-openbao:{signature_tag}") == nvcf_like["signature"], (
        "turning copy_signatures on copied them"
    )

    _, moved = source.index(f"{ns}/nvidia/nvcf-openbao", "2.5.1-nv-1.1.0")  # same tag, new content
    code, text = tf.plan_exit_code()
    assert code == 2 and "terraform_data.mirror[0] must be replaced" in text, text
    assert re.search(
        r'~ "image:nvcf-openbao:2\.5\.1-nv-1\.1\.0" += "[^"]+@'
        + re.escape(nvcf_like["image"])
        + r'" -> "[^"]+@'
        + re.escape(moved["linux/amd64"].digest)
        + '"',
        text,
    ), f"the plan names the artifact and its new digest:\n{text}"
    assert "aws_ecr_repository" not in text.split("Terraform will perform")[-1].split("Plan:")[0].replace(
        "data.", ""
    ), text
    assert "1 to add, 0 to change, 1 to destroy" in text, text
    tf.apply_plan()
    assert _created(sandbox, ns) == before, "a repository was deleted or re-created"
    assert tf.outputs()["image_uris"]["nvcf-openbao:2.5.1-nv-1.1.0"].endswith("@" + moved["linux/amd64"].digest)
    assert _target_digest(sandbox, f"{ns}/nvcf-openbao:2.5.1-nv-1.1.0") == moved["linux/amd64"].digest
    code, text = tf.plan_exit_code()
    assert code == 0, f"a plan after the copy ran again must show no changes:\n{text}"

    ecr.delete_repository(repositoryName=f"{ns}/gdn-streaming", force=True)  # ECR's control plane: the repository
    _delete_at_target(sandbox, f"{ns}/gdn-streaming", nvcf_like["chart"])  # the registry: the chart it held
    code, text = tf.plan_exit_code()
    assert code == 2 and f'aws_ecr_repository.this["{ns}/gdn-streaming"] will be created' in text, text
    assert re.search(r'missing += \[\s*\+ "chart:gdn-streaming:2\.0\.1"', text), (
        f"the plan reports what the target lost:\n{text}"
    )
    tf.apply_plan()
    assert f"{ns}/gdn-streaming" in _created(sandbox, ns) and f"{ns}/other-team-app" in _created(sandbox, ns)

    _put_image(ecr, f"{ns}/nvcf-openbao")
    done = tf._run("destroy", "-auto-approve", "-input=false", f"-state={tf.runner.state_path}")
    assert done.returncode != 0 and "RepositoryNotEmptyException" in done.stdout + done.stderr, (
        done.stdout + done.stderr
    )
    assert f"{ns}/nvcf-openbao" in _created(sandbox, ns), (
        "delete_repositories_on_destroy = false keeps a repository holding images"
    )
    tf.set_variables({**variables, "copy_signatures": True, "delete_repositories_on_destroy": True})
    tf.apply()
    tf.runner.destroy()  # force_delete: images do not stop it
    names = {r["repositoryName"] for r in ecr.describe_repositories()["repositories"]}
    assert not {f"{ns}/nvcf-openbao", f"{ns}/gdn-streaming"} & names
    assert {f"{ns}/other-team-app", f"{ns}-decoy/keep"} <= names


# The module version before repositories became resources: its apply created them through the copier.
PREVIOUS_MODULE_COMMIT = "a0c27f7"


@pytest.mark.one_terraform
def test_upgrading_from_the_previous_module_keeps_every_repository_and_image(
    sandbox: Sandbox, nvcf_like: dict[str, Any], ns: str, terraform_root: Any, tmp_path: Path
) -> None:
    previous = tmp_path / "previous-module"
    previous.mkdir()
    for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf"):
        shown = subprocess.run(
            ["git", "show", f"{PREVIOUS_MODULE_COMMIT}:terraform/modules/nvcf-mirror/{name}"],
            cwd=REPO,
            capture_output=True,
            check=True,
        )
        (previous / name).write_bytes(shown.stdout)
    variables = _variables(sandbox, ns, nvcf_like["manifest"], delete_repositories_on_destroy=True)
    old = terraform_root(variables, sandbox.ecr_env(), module=previous)
    old.apply()
    before = _created(sandbox, ns)
    assert set(before) == {f"{ns}/nvcf-openbao", f"{ns}/gdn-streaming"}

    new = terraform_root(variables, sandbox.ecr_env())
    lines = run_cli(
        "ecr",
        "import-commands",
        "--manifest",
        str(nvcf_like["manifest"]),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"{sandbox.target.host}/{ns}",
        "--target-type",
        "ecr",
        "--aws-region",
        REGION,
        env=sandbox.ecr_env(),
        check=True,
    )
    commands = [shlex.split(line) for line in lines.stdout.splitlines()]
    assert sorted(c[3] for c in commands) == sorted(before)
    for command in commands:
        done = new._run("import", "-input=false", f"-state={new.runner.state_path}", *command[2:])
        assert done.returncode == 0, done.stdout + done.stderr
    new.apply()
    assert _created(sandbox, ns) == before, "a repository was deleted or re-created by the upgrade"
    assert _target_digest(sandbox, f"{ns}/nvcf-openbao:2.5.1-nv-1.1.0") == nvcf_like["image"]
    code, text = new.plan_exit_code()
    assert code == 0, text


@pytest.mark.one_terraform
def test_switching_release_from_v05_to_v10_plans_new_repositories_and_copies_and_removes_nothing(
    sandbox: Sandbox, source: Factory, ns: str, terraform_root: Any
) -> None:
    """release = "v0.5" applied, then "v1.0": the plan creates the new release's repositories and copies
    again; the v0.5 repositories stay (nothing is destroyed but the copy step it replaces). Cheap selections
    of the bundled manifests: v0.5's low-latency-streaming group, v1.0's independent group with its two
    images pinned (its unpinned gpu-operator chart stays skipped)."""
    pins = {"gpu-operator-validator": "v25.3.1", "k8s-device-plugin": "v0.17.0"}
    old = manifest_mod.load(release="v0.5").select(["low-latency-streaming"])
    new = [a for a in manifest_mod.load(release="v1.0").select(["independent"], versions=pins) if not a.needs_version]
    seed(source, old + new)
    variables = {k: v for k, v in _variables(sandbox, ns, Path()).items() if k != "manifest_path"}
    tf = terraform_root({**variables, "release": "v0.5", "groups": ["low-latency-streaming"]}, sandbox.ecr_env())
    tf.apply()
    assert set(_created(sandbox, ns)) == {f"{ns}/streaming-proxy", f"{ns}/gdn-streaming"}

    tf.set_variables({**variables, "release": "v1.0", "groups": ["independent"], "set_versions": pins})
    code, text = tf.plan_exit_code()
    assert code == 2, text
    created = set(re.findall(r'aws_ecr_repository\.this\["([^"]+)"\] will be created', text))
    assert created == {f"{ns}/gpu-operator-validator", f"{ns}/k8s-device-plugin"}, text
    assert "terraform_data.mirror[0] must be replaced" in text, text
    assert "will be destroyed" not in text and re.search(r"Plan: 3 to add, 0 to change, 1 to destroy", text), (
        f"only the copy step is replaced; no repository is removed:\n{text}"
    )


def test_apply_creates_repositories_outputs_the_digests_skopeo_sees_plans_no_changes_and_keeps_the_key_out_of_files(
    sandbox: Sandbox,
    nvcf_like: dict[str, Any],
    ns: str,
    terraform_root: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    policy = tmp_path / "lifecycle.json"
    policy.write_text(
        json.dumps(
            {
                "rules": [
                    {
                        "rulePriority": 1,
                        "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 5},
                        "action": {"type": "expire"},
                    }
                ]
            }
        )
    )
    key = "arn:aws:kms:us-east-1:123456789012:key/test"
    settings = {
        "scan_on_push": False,
        "image_tag_mutability": "IMMUTABLE",
        "encryption_type": "KMS",
        "kms_key": key,
        "repository_tags": {"team": "nvcf"},
        "lifecycle_policy_file": str(policy),
        "pull_principals": ["arn:aws:iam::210987654321:root"],
    }
    canary = "nvapi-CANARY-" + sandbox.api_key[6:]
    # the source accepts only the canary key: the mirror ran with it if anything copied
    monkeypatch.setattr(sandbox.tokens, "api_key", canary)
    tf = terraform_root(
        _variables(sandbox, ns, nvcf_like["manifest"], **settings), {**sandbox.ecr_env(), "NGC_API_KEY": canary}
    )
    tf.apply()
    out = tf.outputs()
    image_ref = f"{sandbox.target.host}/{ns}/nvcf-openbao@{nvcf_like['image']}"
    assert out["image_uris"] == {"nvcf-openbao:2.5.1-nv-1.1.0": image_ref}
    assert out["chart_refs"] == {
        "gdn-streaming:2.0.1": f"{sandbox.target.host}/{ns}/gdn-streaming@{nvcf_like['chart']}"
    }
    assert _target_digest(sandbox, f"{ns}/nvcf-openbao:2.5.1-nv-1.1.0") == nvcf_like["image"]
    assert _target_digest(sandbox, f"{ns}/gdn-streaming:2.0.1") == nvcf_like["chart"]
    signature_tag = nvcf_like["image"].replace(":", "-") + ".sig"
    assert _target_digest(sandbox, f"{ns}/nvcf-openbao:{signature_tag}") == nvcf_like["signature"], (
        "the image's signature came along"
    )
    assert out["digests"]["image:nvcf-openbao:2.5.1-nv-1.1.0"] == nvcf_like["image"] and out["missing"] == []
    assert out["repository_urls"] == {
        "nvcf-openbao": f"{sandbox.target.host}/{ns}/nvcf-openbao",
        "gdn-streaming": f"{sandbox.target.host}/{ns}/gdn-streaming",
    }
    assert (out["registry"], out["repository_prefix"]) == (sandbox.target.host, ns)
    assert f"repository: {ns}" in out["helm_values"]
    ecr = boto3.client("ecr", region_name=REGION, **_moto(sandbox))
    repos = {r["repositoryName"]: r for r in ecr.describe_repositories()["repositories"]}
    assert {f"{ns}/nvcf-openbao", f"{ns}/gdn-streaming"} <= set(repos)
    repo = repos[f"{ns}/nvcf-openbao"]
    assert repo["imageScanningConfiguration"] == {"scanOnPush": False} and repo["imageTagMutability"] == "IMMUTABLE"
    assert repo["encryptionConfiguration"] == {"encryptionType": "KMS", "kmsKey": key}
    assert ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"])["tags"] == [{"Key": "team", "Value": "nvcf"}]
    assert (
        json.loads(ecr.get_lifecycle_policy(repositoryName=f"{ns}/nvcf-openbao")["lifecyclePolicyText"])["rules"][0][
            "rulePriority"
        ]
        == 1
    )
    pull = json.loads(ecr.get_repository_policy(repositoryName=f"{ns}/nvcf-openbao")["policyText"])["Statement"][0]
    assert pull["Principal"] == {"AWS": ["arn:aws:iam::210987654321:root"]} and "ecr:BatchGetImage" in pull["Action"]
    assert {
        f'module.nvcf_mirror.aws_ecr_repository.this["{ns}/nvcf-openbao"]',
        f'module.nvcf_mirror.aws_ecr_repository.this["{ns}/gdn-streaming"]',
    } <= set(tf.state_list())

    code, text = tf.plan_exit_code()
    assert code == 0, f"a second plan must show no changes:\n{text}"
    leaks = [p for p in tmp_path.rglob("*") if p.is_file() and canary.encode() in p.read_bytes()]
    assert leaks == [], "the NGC key is in no file of the working, data or state directories"


@pytest.mark.one_terraform
def test_set_versions_latest_shows_the_resolved_version_at_plan_and_mirrors_it(
    sandbox: Sandbox, source: Factory, nvcf_like: dict[str, Any], ns: str, terraform_root: Any
) -> None:
    """And ``source_map`` reaches the plan's data source and the apply step: nvcr.io is read only through it here."""
    newer = source.image(f"{ns}/nvidia/nvcf-openbao", "2.6.0-nv-1.0.0")  # of the pinned 2.5.1-nv-1.1.0's flavour
    source.image(f"{ns}/nvidia/nvcf-openbao", "2.7.0")  # newer, but of no flavour: not latest for an -nv- pin
    variables = _variables(
        sandbox,
        ns,
        nvcf_like["manifest"],
        set_versions={"nvcf-openbao": "latest"},
        groups=["test"],
        platforms=["linux/amd64"],
        source_registry="",
        source_map={"nvcr.io": sandbox.source.host},
    )
    tf = terraform_root({**variables, "cluster_name": "the-eks-cluster", "repository_prefix": ns}, sandbox.ecr_env())
    code, text = tf.plan_exit_code()
    assert code == 2 and re.search(r'"image:nvcf-openbao:2.6.0-nv-1.0.0" += "2.6.0-nv-1.0.0"', text), text
    tf.apply_plan()
    out = tf.outputs()
    expected_uri = f"{sandbox.target.host}/{ns}/nvcf-openbao@{newer.digest}"
    assert out["image_uris"] == {"nvcf-openbao:2.6.0-nv-1.0.0": expected_uri}, "repository_prefix, not cluster_name"
    versions = {"image:nvcf-openbao:2.6.0-nv-1.0.0": "2.6.0-nv-1.0.0", "chart:gdn-streaming:2.0.1": "2.0.1"}
    assert out["versions"] == versions
    assert out["repository_prefix"] == ns


def _created(sandbox: Sandbox, ns: str) -> dict[str, object]:
    ecr = boto3.client("ecr", region_name=REGION, **_moto(sandbox))
    return {
        r["repositoryName"]: r["createdAt"]
        for r in ecr.describe_repositories()["repositories"]
        if r["repositoryName"].startswith(f"{ns}/")
    }


@pytest.mark.one_terraform
def test_switch_off_plans_nothing(
    sandbox: Sandbox, nvcf_like: dict[str, Any], ns: str, terraform_root: Any, tmp_path: Path
) -> None:
    # A python that cannot run proves the external program is never started when the switch is off.
    tf = terraform_root(
        _variables(sandbox, ns, nvcf_like["manifest"], create_sm_ecr_repos=False, python=str(tmp_path / "no-python")),
        sandbox.ecr_env(),
    )
    _, text = tf.plan_exit_code()
    assert "Plan:" not in text and "will be created" not in text and "Reading..." not in text, text
    assert re.search(r"image_uris +\= \{\}", text), text


def _external(query: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "provider_helper.terraform"], input=json.dumps(query), capture_output=True, text=True
    )


def test_external_entry_point_rejects_non_string_values_and_answers_string_maps(
    sandbox: Sandbox, nvcf_like: dict[str, Any], ns: str
) -> None:
    bad = _external({"mode": "plan", "repository_prefix": ns, "groups": ["a"], "platforms": 1})
    assert bad.returncode != 0 and bad.stdout == ""
    assert bad.stderr.strip() == "nvcf-mirror: query values must be strings; not a string: groups, platforms"
    query = {
        "mode": "plan",
        "repository_prefix": ns,
        "aws_region": REGION,
        "manifest_path": str(nvcf_like["manifest"]),
        "source_registry": sandbox.source.host,
        "target_registry": sandbox.target.host,
    }
    done = subprocess.run(
        [sys.executable, "-m", "provider_helper.terraform"],
        input=json.dumps(query),
        capture_output=True,
        text=True,
        env={**os.environ, **sandbox.ecr_env()},
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer and all(isinstance(v, str) for v in answer.values())
    assert json.loads(answer["source_digests"])["image:nvcf-openbao:2.5.1-nv-1.1.0"] == nvcf_like["image"]
    trigger = json.loads(answer["copy_trigger"])
    assert (
        trigger["image:nvcf-openbao:2.5.1-nv-1.1.0"]
        == f"{sandbox.target.host}/{ns}/nvcf-openbao:2.5.1-nv-1.1.0@{nvcf_like['image']}"
    )
    assert trigger["copy_signatures"] == "true" and len(trigger) == 3


def test_a_bad_setting_is_worded_as_the_module_variable_and_on_the_cli_as_the_flag() -> None:
    """Domain code names the setting; each front door words it: set_versions["NAME"] here, --set-version NAME=…
    on the CLI."""
    query = {"mode": "plan", "repository_prefix": "c1", "target_registry": "registry.example", "target_type": "generic"}
    unknown = _external({**query, "set_versions": json.dumps({"no-such-artifact": "1.0"})})
    assert unknown.returncode == 2 and unknown.stdout == ""
    assert unknown.stderr.startswith('nvcf-mirror: set_versions["no-such-artifact"] = "1.0": no artifact of '), (
        unknown.stderr
    )
    bad = _external({**query, "set_versions": json.dumps({"nvcf-openbao": "1.0/../x"})})
    assert bad.stderr.strip() == 'nvcf-mirror: set_versions["nvcf-openbao"] = "1.0/../x": not a valid version', (
        bad.stderr
    )
    twice = _external({**query, "set_versions": json.dumps({"nvcf-openbao": "latest"})})
    assert twice.returncode == 2 and twice.stderr.startswith(
        'nvcf-mirror: set_versions["nvcf-openbao"] = "latest": nvcf-openbao names 2 entries'
    ), twice.stderr
    assert twice.stderr.strip().endswith('e.g. set_versions = { "nvcf-openbao:2.2.2-nv-1" = "latest" }'), (
        "Terraform gets the pin in its words"
    )
    typo = _external({**query, "platforms": "linux/amd65"})
    assert (
        typo.stderr.strip()
        == "nvcf-mirror: platforms[\"linux/amd65\"]: unknown architecture 'amd65' (did you mean linux/amd64?)"
    ), typo.stderr
    cli = run_cli("plan", "--offline", "--target", "registry.example/c1", "--set-version", "no-such-artifact=1.0")
    assert cli.returncode == 2 and "error: --set-version no-such-artifact=1.0: no artifact of " in cli.stderr, (
        cli.stderr
    )
    assert "set_versions" not in cli.stderr and "--set-version" not in unknown.stderr + bad.stderr
    # advice that names a setting: the module's variables, the CLI's flags
    prefix = _external({**query, "repository_prefix": "Bad_Prefix"})
    assert (
        prefix.returncode == 2
        and "target_registry/repository_prefix 'registry.example/Bad_Prefix': prefix" in prefix.stderr
    ), prefix.stderr
    cli_prefix = run_cli("plan", "--offline", "--target", "registry.example/Bad_Prefix")
    assert cli_prefix.returncode == 2 and "--target 'registry.example/Bad_Prefix': prefix" in cli_prefix.stderr, (
        cli_prefix.stderr
    )
    assert "--" not in prefix.stderr.replace("nvcf-mirror", "")
    mapped = _external({**query, "source_map": json.dumps({"docker.io": "b=c"})})
    assert (
        mapped.returncode == 2
        and mapped.stderr.strip()
        == 'nvcf-mirror: source_map["docker.io"] = "b=c": MIRROR must be HOST[:PORT][/PREFIX], '
        "e.g. mirror.internal:5000"
    ), mapped.stderr


@pytest.mark.one_terraform
def test_exclude_leaves_an_artifact_out_of_the_plan_and_an_unknown_name_fails_it(
    sandbox: Sandbox, nvcf_like: dict[str, Any], ns: str, terraform_root: Any
) -> None:
    tf = terraform_root(_variables(sandbox, ns, nvcf_like["manifest"], exclude=["gdn-streaming"]), sandbox.ecr_env())
    code, text = tf.plan_exit_code()
    assert code == 2 and f'aws_ecr_repository.this["{ns}/nvcf-openbao"] will be created' in text, text
    assert f"{ns}/gdn-streaming" not in text, "the excluded chart gets no repository"
    assert "gdn-streaming:2.0.1" not in text, "and is not in the copy trigger"
    assert "image:nvcf-openbao:2.5.1-nv-1.1.0" in text, "the copy trigger names what is left"
    tf.set_variables(_variables(sandbox, ns, nvcf_like["manifest"], exclude=["no-such-artifact"]))
    done = tf._run("plan", "-input=false", f"-state={tf.runner.state_path}")
    said = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 1 and 'exclude["no-such-artifact"]: no artifact of' in said, said


@pytest.mark.one_terraform
def test_prune_superseded_removes_the_previous_releases_tags_after_the_copy(
    sandbox: Sandbox, source: Factory, ns: str, terraform_root: Any, tmp_path: Path
) -> None:
    """moto is ECR's control plane only: the data plane's images are put into moto too, so that moto
    shows what the apply step's BatchDeleteImage removed."""
    import httpx

    from provider_helper.oci.manifest import ACCEPT

    source.image(f"{ns}/nvidia/app", "1.0")
    source.image(f"{ns}/nvidia/app", "2.0")
    entry = {"type": "image", "group": "test"}
    releases = {
        v: write_manifest(tmp_path / f"{v}.yaml", [{**entry, "source": f"nvcr.io/{ns}/nvidia/app:{v}"}])
        for v in ("1.0", "2.0")
    }
    tf = terraform_root(_variables(sandbox, ns, releases["1.0"], prune_superseded=True), sandbox.ecr_env())
    tf.apply()
    ecr = boto3.client("ecr", region_name=REGION, **_moto(sandbox))
    got = httpx.get(
        f"{sandbox.target.url}/v2/{ns}/app/manifests/1.0",
        headers={"Accept": ACCEPT},
        auth=(ECR_USER, sandbox.target_password),
    )
    ecr.put_image(
        repositoryName=f"{ns}/app",
        imageManifest=got.text,
        imageTag="1.0",
        imageManifestMediaType=got.headers["content-type"],
    )
    tf.set_variables(_variables(sandbox, ns, releases["2.0"], prune_superseded=True))
    tf.apply()
    assert [i.get("imageTag") for i in ecr.list_images(repositoryName=f"{ns}/app")["imageIds"]] == [], "1.0 was pruned"
    assert _target_digest(sandbox, f"{ns}/app:2.0") is not None and tf.outputs()["missing"] == []


def _moto(sandbox: Sandbox) -> dict[str, Any]:
    return {"endpoint_url": sandbox.aws.url, "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def _validate(root: str, tf_bin: str, terraform_env: dict[str, str], tmp_path: Path) -> None:
    # A copy, so init's lock file lands in tmp_path: never in the working tree, never shared by parallel workers.
    for tree in ("terraform", "examples"):
        shutil.copytree(
            REPO / tree,
            tmp_path / "repo" / tree,
            ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"),
            dirs_exist_ok=True,
        )
    env = {**os.environ, **terraform_env, "TF_DATA_DIR": str(tmp_path / "data" / root)}
    for args in (["init", "-input=false", "-backend=false"], ["validate", "-no-color"]):
        done = subprocess.run(
            [tf_bin, *args], cwd=tmp_path / "repo" / root, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, f"{root}: terraform {args[0]}\n{done.stdout}\n{done.stderr}"


def test_the_module_validates(tf_bin: str, terraform_env: dict[str, str], tmp_path: Path) -> None:
    _validate("terraform/modules/nvcf-mirror", tf_bin, terraform_env, tmp_path)


@pytest.mark.one_terraform
def test_the_examples_validate(tf_bin: str, terraform_env: dict[str, str], tmp_path: Path) -> None:
    for root in ("examples/ecr", "examples/generic", "examples/local"):
        _validate(root, tf_bin, terraform_env, tmp_path)


def _delete_at_target(sandbox: Sandbox, repository: str, digest: str) -> None:
    import httpx

    deleted = httpx.delete(
        f"{sandbox.target.url}/v2/{repository}/manifests/{digest}", auth=(ECR_USER, sandbox.target_password)
    )
    assert deleted.status_code == 202, deleted.text


def _put_image(ecr: Any, repository: str) -> None:
    """An image as ECR's control plane knows it (moto tracks PutImage, not the registry API)."""
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 2, "digest": sha256(b"{}")},
        "layers": [],
    }
    ecr.put_image(repositoryName=repository, imageManifest=json.dumps(manifest), imageTag="held")


@pytest.mark.one_terraform
def test_the_plan_fails_in_one_line_when_python_lacks_the_package(
    sandbox: Sandbox, nvcf_like: dict[str, Any], ns: str, terraform_root: Any, tmp_path: Path
) -> None:
    bare = tmp_path / "bare-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    tf = terraform_root(
        _variables(sandbox, ns, nvcf_like["manifest"], python=str(bare / "bin" / "python")), sandbox.ecr_env()
    )
    done = tf._run("plan", "-input=false", f"-state={tf.runner.state_path}")
    assert done.returncode == 1
    assert f"{bare}/bin/python cannot import provider_helper" in " ".join(
        done.stderr.split()
    ) and "install it from the nvcf-mirror repository or a wheel built there: " in " ".join(done.stderr.split())
    assert f"{bare}/bin/python -m pip install /path/to/nvcf-mirror" in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr


def test_the_apply_step_reads_its_settings_with_values_kept_whole() -> None:
    """The apply step builds its run from the settings as the plan does (no command line in between):
    commas inside a tag value, a version pin, groups in order, signatures off, repository settings."""
    from provider_helper.terraform_settings import config_from, repository_settings

    settings = {
        "target_registry": "123456789012.dkr.ecr.us-east-1.amazonaws.com",
        "repository_prefix": "c1",
        "aws_region": REGION,
        "groups": "infrastructure,control-plane",
        "platforms": "linux/amd64",
        "repository_tags": json.dumps({"cost": "a,b"}),
        "scan_on_push": "false",
        "target_type": "ecr",
        "create_repos": "true",
        "set_versions": json.dumps({"k8s-device-plugin": "v0.17.1"}),
        "signatures": "false",
        "source_map": json.dumps({"docker.io": "mirror.internal:5000/hub", "helm.ngc.nvidia.com": "charts.internal"}),
    }
    config = config_from(settings)
    assert (
        config.sources.mirror("docker.io") is not None
        and str(config.sources.mirror("docker.io")) == "mirror.internal:5000/hub"
    )
    assert config.sources.url("https://helm.ngc.nvidia.com/nvidia/nvcf") == "https://charts.internal/nvidia/nvcf"
    assert config.target == "123456789012.dkr.ecr.us-east-1.amazonaws.com/c1" and config.set_versions == (
        "k8s-device-plugin=v0.17.1",
    )
    assert (
        config.groups == ("infrastructure", "control-plane")
        and config.platforms == ("linux/amd64",)
        and not config.signatures
    )
    assert repository_settings(settings).tags == {"cost": "a,b"} and repository_settings(settings).scan_on_push is False
    assert config_from({"target_registry": "r.example", "target_type": "generic"}).signatures


@pytest.mark.one_terraform
def test_a_target_registry_in_another_account_than_the_provider_stops_the_plan(
    sandbox: Sandbox, nvcf_like: dict[str, Any], ns: str, terraform_root: Any
) -> None:
    """Repositories, copy and destroy use one account: never the caller's own {prefix}/ repositories for another's
    registry."""
    other = "999999999999.dkr.ecr.us-east-1.amazonaws.com"
    tf = terraform_root(_variables(sandbox, ns, nvcf_like["manifest"], target_registry=other), sandbox.ecr_env())
    done = tf._run("plan", "-input=false", f"-state={tf.runner.state_path}")
    text = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 1
    assert (
        "target_registry is in account 999999999999, "
        "but the aws provider given to this module is in account 123456789012" in text
    ), text


@pytest.mark.one_terraform
def test_a_kms_key_with_aes256_encryption_is_a_warning_at_every_plan_not_dropped_silently(
    sandbox: Sandbox, nvcf_like: dict[str, Any], ns: str, terraform_root: Any
) -> None:
    """As on the CLI (--kms-key with another --encryption), a key the repositories would not use is named; as a
    warning, since earlier versions of the module ignored it and such a configuration must keep applying."""
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    tf = terraform_root(_variables(sandbox, ns, nvcf_like["manifest"], kms_key=key), sandbox.ecr_env())
    done = tf._run("plan", "-input=false", f"-state={tf.runner.state_path}")
    text = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 0, text
    assert (
        "kms_key is set but encryption_type is AES256: the key is not used; "
        'set encryption_type = "KMS" to use it, or drop kms_key.' in text
    ), text


@pytest.mark.one_terraform
def test_a_bad_source_map_entry_is_refused_by_the_module_variable_validation(
    sandbox: Sandbox, nvcf_like: dict[str, Any], ns: str, terraform_root: Any
) -> None:
    tf = terraform_root(
        _variables(sandbox, ns, nvcf_like["manifest"], source_map={"docker.io": "b=c"}), sandbox.ecr_env()
    )
    done = tf._run("plan", "-input=false", f"-state={tf.runner.state_path}")
    text = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 1
    assert (
        "source_map maps upstream hosts (docker.io, ghcr.io, helm.ngc.nvidia.com) to mirrors, HOST[:PORT][/PREFIX]."
        in text
    ), text


def test_insecure_registries_reach_the_apply_step() -> None:
    from provider_helper.terraform_settings import config_from

    config = config_from(
        {
            "target_registry": "harbor.internal:8443",
            "target_type": "generic",
            "insecure_registries": "harbor.internal:8443, proxy.internal",
        }
    )
    assert config.insecure_registries == ("harbor.internal:8443", "proxy.internal")
    assert config.registries().insecure == frozenset({"harbor.internal:8443", "proxy.internal"})


def test_the_default_registry_in_a_china_region_is_the_amazonaws_com_cn_host(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from provider_helper.terraform_settings import config_from

    for key, value in sandbox.ecr_env().items():
        monkeypatch.setenv(key, value)
    assert (
        config_from({"aws_region": "cn-north-1", "repository_prefix": "c1"}).target
        == "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/c1"
    )
    assert (
        config_from({"aws_region": "eu-west-1", "repository_prefix": "c1"}).target
        == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/c1"
    )


# Each validated variable, a value its validation refuses, and the value at the edge it accepts.
VALIDATED = {
    "cluster_name": ("Cluster", "c.1_2-3"),
    "aws_region": ("us_east_1", "us-gov-west-1"),
    "repository_prefix": ("Team/X", "team/x.y"),
    "release": ("v2.0", "v1.0"),
    "groups": (["Control_Plane"], ["control-plane"]),
    "exclude": (["-x"], ["a/b.c_d-e"]),
    "platforms": ([], ["all"]),
    "image_tag_mutability": ("mutable", "IMMUTABLE"),
    "encryption_type": ("aes256", "KMS"),
    "set_versions": ({"nvcf-cli": "0.0.99 "}, {"nvcf-openbao:2.2.2-nv-1": "latest"}),
}


@pytest.mark.one_terraform
def test_every_variable_validation_refuses_its_bad_values_and_takes_the_edge_of_its_good_ones(
    sandbox: Sandbox, nvcf_like: dict[str, Any], ns: str, terraform_root: Any
) -> None:
    """module README Inputs: each validated variable's values (`release` one of v0.5, v0.6.0, v0.6.1, v1.0;
    `platforms` OS/ARCH[/VARIANT] or ["all"]; `image_tag_mutability` MUTABLE or IMMUTABLE; `encryption_type` AES256
    or KMS; ...). One plan holds every bad value (Terraform reports each failed validation) and stops before the
    adapter runs; one with the edge values passes them all, with the switch off so that nothing else runs."""
    bad = _variables(sandbox, ns, nvcf_like["manifest"], **{k: v[0] for k, v in VALIDATED.items()})
    tf = terraform_root(bad, sandbox.ecr_env())
    done = tf._run("plan", "-input=false", f"-state={tf.runner.state_path}")
    text = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 1
    messages = re.findall(
        r'error_message = "((?:[^"\\]|\\.)*)"', (REPO / "terraform/modules/nvcf-mirror/variables.tf").read_text()
    )
    refused = {m.replace('\\"', '"') for m in messages if m.split(" ")[0] in VALIDATED or m.startswith("Group names")}
    assert len(refused) == len(VALIDATED), refused
    for message in refused:
        assert message in text, f"{message!r} not in the plan's errors:\n{text}"
    good = _variables(
        sandbox, ns, nvcf_like["manifest"], create_sm_ecr_repos=False, **{k: v[1] for k, v in VALIDATED.items()}
    )
    good["kms_key"] = "arn:aws:kms:us-gov-west-1:123456789012:key/k"
    good.pop("manifest_path")  # excludes release
    code, text = terraform_root(good, sandbox.ecr_env()).plan_exit_code()
    assert code in (0, 2), text
