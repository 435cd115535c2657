"""ECR as the target: moto server is the ECR/STS API, an htpasswd Distribution registry the data plane."""

from __future__ import annotations

import base64
import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest
import readme_text
from helpers import run_cli, sha256, skopeo_raw, write_manifest

from provider_helper.aws.ecr import PUT_IMAGE_PER_SECOND, REFRESH_BEFORE, EcrToken
from provider_helper.oci.reference import parse_target
from provider_helper.sandbox.aws import REGION
from provider_helper.sandbox.images import Factory
from provider_helper.sandbox.stack import Sandbox
from provider_helper.targets import TargetAccess


@pytest.fixture
def ecr(sandbox: Sandbox) -> Any:
    return boto3.client(
        "ecr",
        region_name=REGION,
        endpoint_url=sandbox.aws.url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _repos(ecr: Any, prefix: str) -> dict[str, dict[str, Any]]:
    return {
        r["repositoryName"]: r
        for r in ecr.describe_repositories()["repositories"]
        if r["repositoryName"].startswith(prefix + "/")
    }


def _images(sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    _, children = source.index(f"{ns}/nvidia/nvcf-openbao", "2.5.1-nv-1.1.0")
    single = source.image(f"{ns}/nvidia/nats-box", "0.19.2-nonroot")
    chart = source.chart(f"{ns}/nvidia/gdn-streaming", "2.0.1")
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [
            {"type": "image", "source": f"nvcr.io/{ns}/nvidia/nvcf-openbao:2.5.1-nv-1.1.0", "group": "test"},
            {"type": "image", "source": f"nvcr.io/{ns}/nvidia/nats-box:0.19.2-nonroot", "group": "test"},
            {"type": "chart", "source": f"nvcr.io/{ns}/nvidia/gdn-streaming:2.0.1", "group": "test"},
        ],
    )
    expected = {
        "nvcf-openbao:2.5.1-nv-1.1.0": children["linux/amd64"].digest,
        "nats-box:0.19.2-nonroot": single.digest,
        "gdn-streaming:2.0.1": chart.digest,
    }
    return manifest, expected


def test_ecr_mirror_creates_prefixed_repositories_with_settings_and_pushes_exact_digests(
    sandbox: Sandbox, source: Factory, ecr: Any, ns: str, tmp_path: Path
) -> None:
    manifest, expected = _images(sandbox, source, ns, tmp_path)
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
    args = [
        "mirror",
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"{sandbox.target.host}/{ns}",
        "--target-type",
        "ecr",
        "--create-repos",
        "--no-scan-on-push",
        "--tag-mutability",
        "IMMUTABLE",
        "--encryption",
        "KMS",
        "--kms-key",
        "arn:aws:kms:us-east-1:123456789012:key/test",
        "--repo-tag",
        "team=nvcf",
        "--lifecycle-policy",
        str(policy),
    ]
    done = run_cli(*args, env=sandbox.ecr_env())
    assert done.returncode == 0, done.stderr
    repos = _repos(ecr, ns)
    assert set(repos) == {f"{ns}/nvcf-openbao", f"{ns}/nats-box", f"{ns}/gdn-streaming"}
    repo = repos[f"{ns}/nvcf-openbao"]
    assert repo["imageTagMutability"] == "IMMUTABLE" and repo["imageScanningConfiguration"] == {"scanOnPush": False}
    assert repo["encryptionConfiguration"] == {
        "encryptionType": "KMS",
        "kmsKey": "arn:aws:kms:us-east-1:123456789012:key/test",
    }
    assert ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"])["tags"] == [{"Key": "team", "Value": "nvcf"}]
    assert (
        json.loads(ecr.get_lifecycle_policy(repositoryName=f"{ns}/nvcf-openbao")["lifecyclePolicyText"])["rules"][0][
            "rulePriority"
        ]
        == 1
    )
    for name, digest in expected.items():
        assert (
            sha256(skopeo_raw(f"{sandbox.target.host}/{ns}/{name}", authfile=sandbox.docker_config / "config.json"))
            == digest
        )

    again = run_cli(*args, "--result-file", str(tmp_path / "r.json"), env=sandbox.ecr_env())
    assert again.returncode == 0, again.stderr
    assert [a["status"] for a in json.loads((tmp_path / "r.json").read_text())["artifacts"]] == ["present"] * 3
    assert set(_repos(ecr, ns)) == set(repos)


def test_delete_repos_removes_only_the_prefix(sandbox: Sandbox, ecr: Any, ns: str) -> None:
    inside = [f"{ns}/a", f"{ns}/b/c"]
    decoys = [f"{ns}x/decoy", f"other-{ns}/d", ns]
    for name in inside + decoys:
        ecr.create_repository(repositoryName=name)
    base = ["ecr", "delete-repos", "--prefix", ns, "--region", REGION]
    dry = run_cli(*base, "--dry-run", env=sandbox.ecr_env())
    assert dry.returncode == 0 and "2 repositories would be deleted" in dry.stdout
    unconfirmed = run_cli(*base, env=sandbox.ecr_env())
    assert unconfirmed.returncode == 2 and "--yes" in unconfirmed.stderr
    names = {r["repositoryName"] for r in ecr.describe_repositories()["repositories"]}
    assert set(inside + decoys) <= names
    done = run_cli(*base, "--yes", env=sandbox.ecr_env())
    assert done.returncode == 0, done.stderr
    names = {r["repositoryName"] for r in ecr.describe_repositories()["repositories"]}
    assert not set(inside) & names
    assert set(decoys) <= names


def test_wrong_password_on_generic_target_exits_2_without_the_secret(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    source.image(f"{ns}/nvidia/x", "1")
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"type": "image", "source": f"nvcr.io/{ns}/nvidia/x:1", "group": "test"}]
    )
    secret = "wrong-" + sandbox.target_password[::-1]
    done = subprocess.run(
        [
            "nvcf-mirror",
            "-v",
            "mirror",
            "--manifest",
            str(manifest),
            "--source-registry",
            sandbox.source.host,
            "--target",
            f"{sandbox.target.host}/{ns}",
            "--target-username",
            "AWS",
            "--password-stdin",
        ],
        input=secret,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin:" + str(Path(__import__("sys").executable).parent), "NGC_API_KEY": sandbox.api_key},
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"nvcf-mirror: error: authentication failed for {sandbox.target.host} (credentials rejected)"
    ]
    assert secret not in done.stdout + done.stderr and sandbox.api_key not in done.stdout + done.stderr


def test_missing_target_credentials_exit_2_before_any_push(sandbox: Sandbox, ns: str, tmp_path: Path) -> None:
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"type": "image", "source": f"nvcr.io/{ns}/nvidia/x:1", "group": "test"}]
    )
    done = run_cli(
        "mirror",
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"{sandbox.target.host}/{ns}",
        env={"NGC_API_KEY": sandbox.api_key, "DOCKER_CONFIG": str(tmp_path)},
    )
    assert done.returncode == 2 and "requires credentials and none were found" in done.stderr


class _FakeEcr:
    """Counts GetAuthorizationToken calls; answers with moto's already-expired expiresAt."""

    def __init__(self) -> None:
        self.calls = 0

    def get_authorization_token(self, **_: object) -> dict[str, Any]:
        self.calls += 1
        import base64

        return {
            "authorizationData": [
                {
                    "authorizationToken": base64.b64encode(b"AWS:tok").decode(),
                    "expiresAt": dt.datetime(2015, 1, 1, tzinfo=dt.UTC),
                }
            ]
        }


def test_ecr_token_with_past_expiry_is_reused_not_refetched_in_a_loop() -> None:
    now = [1_800_000_000.0]  # 2027: moto's expiresAt (2015) is long past
    fake = _FakeEcr()
    token = EcrToken(lambda: fake, None, clock=lambda: now[0])
    for _ in range(50):
        got = token.get()
        assert got is not None and got.password == "tok"
    assert fake.calls == 1
    token.get(refresh=True)
    assert fake.calls == 1, "a 401 right after fetching does not refetch at once"
    now[0] += 5
    token.get(refresh=True)
    assert fake.calls == 2, "a 401 later refreshes the token"
    now[0] += 301
    token.get()
    assert fake.calls == 3, "an expired token is renewed on schedule"


def test_doctor_prints_a_line_per_check_and_fails_when_one_fails(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    source.image(f"{ns}/nvidia/x", "1")
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"type": "image", "source": f"nvcr.io/{ns}/nvidia/x:1", "group": "test"}]
    )
    args = [
        "doctor",
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"{sandbox.target.host}/{ns}",
        "--target-type",
        "ecr",
    ]
    good = run_cli(*args, "--platform", "linux/amd64", env=sandbox.ecr_env())
    lines = good.stdout.splitlines()
    assert good.returncode == 0, good.stdout + good.stderr
    assert [line.split()[0] for line in lines] == ["ok"] * 4
    assert (
        "AWS identity: arn:aws:sts::123456789012" in lines[0]
        and "source pull" in lines[1]
        and "target push" in lines[2]
    )
    bad = run_cli(*args, env={**sandbox.ecr_env(), "NGC_API_KEY": "nvapi-wrong"})
    assert bad.returncode == 1
    pull = next(line for line in bad.stdout.splitlines() if "source pull" in line)
    assert (
        pull.startswith("failed") and "authentication failed" in pull and "nvapi-wrong" not in bad.stdout + bad.stderr
    )


@pytest.mark.parametrize(
    ("host", "region"),
    [
        ("999999999999.dkr.ecr.cn-north-1.amazonaws.com.cn", "cn-north-1"),
        ("999999999999.dkr.ecr.eu-west-1.amazonaws.com", "eu-west-1"),
    ],
    ids=["china", "global"],
)
def test_the_account_and_region_of_an_ecr_host_decide_where_tokens_are_asked_and_repositories_created(
    sandbox: Sandbox, ns: str, monkeypatch: pytest.MonkeyPatch, host: str, region: str
) -> None:
    """Not the caller's default registry (moto's is 123456789012) nor AWS_REGION (us-east-1 here)."""
    from provider_helper import targets
    from provider_helper.aws.ecr import RepositorySettings

    for key, value in sandbox.aws.env().items():
        monkeypatch.setenv(key, value)
    access = targets.resolve(f"{host}/{ns}", "auto", None, None, None, {"AWS_REGION": REGION})
    assert (access.kind, access.region, access.account) == ("ecr", region, "999999999999")
    source = access.credentials()
    assert source is not None
    credential = source.get()
    assert credential is not None and credential.password == "999999999999-auth-token", (
        "moto names the account the token was asked for"
    )
    assert access.repositories().ensure([f"{ns}/app"], RepositorySettings()) == [f"{ns}/app"]
    ecr = boto3.client(
        "ecr",
        region_name=region,
        endpoint_url=sandbox.aws.url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    created = ecr.describe_repositories(registryId="999999999999", repositoryNames=[f"{ns}/app"])["repositories"][0]
    assert created["registryId"] == "999999999999" and created["repositoryUri"].startswith(
        f"999999999999.dkr.ecr.{region}."
    )


def test_create_repos_with_dry_run_creates_nothing_and_without_it_creates_with_the_defaults(
    sandbox: Sandbox, source: Factory, ecr: Any, ns: str, tmp_path: Path
) -> None:
    manifest, _ = _images(sandbox, source, ns, tmp_path)
    args = [
        "mirror",
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"{sandbox.target.host}/{ns}",
        "--target-type",
        "ecr",
        "--create-repos",
    ]
    dry = run_cli(*args, "--dry-run", env=sandbox.ecr_env())
    assert dry.returncode == 0, dry.stderr
    assert _repos(ecr, ns) == {} and f"would create ECR repository {ns}/nats-box" in dry.stderr
    done = run_cli(*args, "--scan-on-push", env=sandbox.ecr_env())
    assert done.returncode == 0, done.stderr
    repo = _repos(ecr, ns)[f"{ns}/nats-box"]
    assert repo["imageScanningConfiguration"] == {"scanOnPush": True} and repo["imageTagMutability"] == "MUTABLE"
    assert repo["encryptionConfiguration"] == {"encryptionType": "AES256"}


def test_delete_repos_with_a_registry_id_deletes_in_that_account_only(sandbox: Sandbox, ecr: Any, ns: str) -> None:
    ecr.create_repository(repositoryName=f"{ns}/theirs", registryId="999999999999")
    ecr.create_repository(repositoryName=f"{ns}/ours")  # the caller's own account (moto's 123456789012), same prefix
    done = run_cli(
        "ecr",
        "delete-repos",
        "--prefix",
        ns,
        "--region",
        REGION,
        "--registry-id",
        "999999999999",
        "--yes",
        env=sandbox.ecr_env(),
    )
    assert done.returncode == 0, done.stderr
    assert not [
        r
        for r in ecr.describe_repositories(registryId="999999999999")["repositories"]
        if r["repositoryName"].startswith(f"{ns}/")
    ]
    assert f"{ns}/ours" in {r["repositoryName"] for r in ecr.describe_repositories()["repositories"]}, (
        "the caller's own repository stays"
    )


def test_import_commands_name_the_module_address_given(
    sandbox: Sandbox, source: Factory, ecr: Any, ns: str, tmp_path: Path
) -> None:
    manifest, _ = _images(sandbox, source, ns, tmp_path)
    ecr.create_repository(repositoryName=f"{ns}/nats-box")
    ecr.create_repository(repositoryName=f"{ns}/not-in-the-manifest")
    done = run_cli(
        "ecr",
        "import-commands",
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"{sandbox.target.host}/{ns}",
        "--target-type",
        "ecr",
        "--aws-region",
        REGION,
        "--module-address",
        "module.mirror[0]",
        env=sandbox.ecr_env(),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"terraform import 'module.mirror[0].aws_ecr_repository.this[\"{ns}/nats-box\"]' {ns}/nats-box"
    ]


def test_delete_repos_region_is_one_thing_a_default_from_aws_region_and_one_line_without_any() -> None:
    helped = run_cli("ecr", "delete-repos", "--help")
    region_help = helped.stdout[helped.stdout.index("--region") : helped.stdout.index("--registry-id")]
    assert "AWS_REGION" in region_help and "[required]" not in region_help
    no_region = {"AWS_REGION": "", "AWS_DEFAULT_REGION": ""}
    done = run_cli("ecr", "delete-repos", "--prefix", "c1", "--dry-run", env=no_region)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["nvcf-mirror: error: no AWS region: pass --region or set AWS_REGION"]


def test_doctor_shows_the_platform_digest_plan_shows_and_says_a_name_does_not_resolve(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    _, children = source.index(f"{ns}/nvidia/multi", "1")
    entry = {"type": "image", "source": f"nvcr.io/{ns}/nvidia/multi:1", "group": "test"}
    manifest = write_manifest(tmp_path / "m.yaml", [entry])
    common = [
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"{sandbox.target.host}/{ns}",
    ]
    good = run_cli("doctor", *common, env=sandbox.env())
    pull = next(line for line in good.stdout.splitlines() if "source pull" in line)
    assert pull.startswith("ok") and pull.endswith(f"resolves to {children['linux/amd64'].digest}"), good.stdout
    plan = run_cli("plan", *common, "--output", "json", env=sandbox.env())
    assert json.loads(plan.stdout)["artifacts"][0]["digest"] == children["linux/amd64"].digest

    bad = run_cli(
        "doctor",
        "--manifest",
        str(manifest),
        "--source-registry",
        "src.nvcf-mirror.invalid",
        "--target",
        "tgt.nvcf-mirror.invalid/c1",
        "--retries",
        "1",
        env=sandbox.env(),
    )
    assert bad.returncode == 1
    lines = {line.split(":")[0].split(None, 1)[1]: line for line in bad.stdout.splitlines()}
    fix = "(fix: the host name does not resolve from here: check its spelling, DNS, and HTTPS_PROXY)"
    for check in ("source pull", "target push"):
        assert lines[check].startswith("failed") and "the name does not resolve" in lines[check]
        assert lines[check].endswith(fix), lines[check]
    assert "credentials" not in bad.stdout


def test_ecr_tokens_are_renewed_before_they_expire() -> None:
    issued_at = 1_800_000_000.0
    now = [issued_at]

    class Ecr:
        calls = 0

        def get_authorization_token(self, **_: object) -> dict[str, Any]:
            Ecr.calls += 1
            expires = dt.datetime.fromtimestamp(now[0] + 12 * 3600, tz=dt.UTC)
            return {
                "authorizationData": [
                    {"authorizationToken": base64.b64encode(b"AWS:tok").decode(), "expiresAt": expires}
                ]
            }

    ecr = Ecr()
    token = EcrToken(lambda: ecr, None, clock=lambda: now[0])
    token.get()
    now[0] = issued_at + 12 * 3600 - REFRESH_BEFORE - 1
    token.get()
    assert Ecr.calls == 1, "still well within its 12 hours"
    now[0] = issued_at + 12 * 3600 - REFRESH_BEFORE + 1
    token.get()
    assert Ecr.calls == 2, "renewed before it expired, not after"


def test_a_kms_key_with_an_encryption_other_than_kms_is_one_line_naming_both_and_exit_2() -> None:
    """README: "Flags that exclude each other (... --kms-key with an --encryption other than KMS ...) stop the
    command with one line naming both, exit 2". Without --encryption it is AES256, the default."""
    from provider_helper.aws.ecr import RepositorySettings
    from provider_helper.errors import InputError

    arn = "arn:aws:kms:us-east-1:123456789012:key/k"
    with pytest.raises(InputError, match=r"^--kms-key goes with --encryption KMS$"):
        RepositorySettings.build(True, "MUTABLE", "AES256", arn, {}, None)
    assert RepositorySettings.build(True, "MUTABLE", "KMS", arn, {}, None).kms_key == arn
    for flags in (("--kms-key", arn), ("--encryption", "AES256", "--kms-key", arn)):
        done = run_cli("mirror", "--dry-run", "--target", "123456789012.dkr.ecr.us-east-1.amazonaws.com/p", *flags)
        assert done.returncode == 2
        assert done.stderr.splitlines() == ["nvcf-mirror: error: --kms-key goes with --encryption KMS"]


def test_manifest_pushes_to_ecr_are_held_to_the_putimage_quota_of_10_per_second() -> None:
    """README Targets: "Manifest pushes are held to ECR's PutImage quota (10/s)"."""
    quota = int(readme_text.said(r"Manifest pushes are held to ECR's PutImage quota \((\d+)/s\)")[1])
    assert quota == PUT_IMAGE_PER_SECOND
    access = TargetAccess(parse_target("123456789012.dkr.ecr.us-east-1.amazonaws.com/nvcf"), "ecr")
    limiter = access.manifest_put_limiter()
    assert limiter is not None and limiter.interval == pytest.approx(1.0 / quota)


def test_aws_failures_are_one_line_missing_or_rejected_credentials_are_bad_input_the_rest_a_registry_error() -> None:
    """CONTRACTS exit codes: 2 for "missing credentials" (one line, no traceback); another AWS failure is the
    service's (exit 1). botocore's own exception types, as the client raises them."""
    from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

    from provider_helper.aws.ecr import aws_error
    from provider_helper.errors import InputError, RegistryError
    from provider_helper.exits import ExitCode, outcome_of

    def exit_code_for(exc: Exception) -> ExitCode | None:
        outcome = outcome_of(exc, str)
        return outcome.code if outcome else None

    missing = aws_error(NoCredentialsError(), "ecr get-authorization-token")
    assert type(missing) is InputError
    assert str(missing) == (
        "ecr get-authorization-token: no AWS credentials found (boto3 default chain: env, profile, SSO, IRSA)"
    )
    assert exit_code_for(missing) == ExitCode.INPUT
    for code in (
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "ExpiredTokenException",
        "AccessDeniedException",
    ):
        rejected = aws_error(ClientError({"Error": {"Code": code, "Message": "no"}}, "GetAuthorizationToken"), "ecr x")
        assert (type(rejected), str(rejected)) == (InputError, f"ecr x: AWS rejected the credentials ({code})")
    other = aws_error(ClientError({"Error": {"Code": "LimitExceededException", "Message": "too many"}}, "Op"), "ecr y")
    assert (type(other), str(other)) == (RegistryError, "ecr y: LimitExceededException: too many")
    assert exit_code_for(other) == ExitCode.FAILED
    down = aws_error(EndpointConnectionError(endpoint_url="https://ecr"), "ecr z")
    assert (type(down), str(down)) == (RegistryError, "ecr z: EndpointConnectionError")


def test_repositories_delete_refuses_a_name_outside_the_prefix_and_ensure_leaves_existing_ones_as_they_are(
    ecr: Any, ns: str
) -> None:
    from provider_helper.aws.ecr import Repositories, RepositorySettings
    from provider_helper.errors import InputError

    ecr.create_repository(repositoryName=f"{ns}/kept", imageTagMutability="IMMUTABLE")
    ecr.create_repository(repositoryName=f"{ns}x/outside")
    repositories = Repositories(ecr, None)
    with pytest.raises(InputError) as refused:
        repositories.delete([f"{ns}x/outside"], ns)
    assert str(refused.value) == f"refusing to delete {ns}x/outside: it is outside {ns}/"
    assert f"{ns}x/outside" in {r["repositoryName"] for r in ecr.describe_repositories()["repositories"]}
    created = repositories.ensure([f"{ns}/kept", f"{ns}/new"], RepositorySettings())
    assert created == [f"{ns}/new"]
    repos = _repos(ecr, ns)
    assert repos[f"{ns}/kept"]["imageTagMutability"] == "IMMUTABLE", "an existing repository is left as it is"
    assert repos[f"{ns}/new"]["imageTagMutability"] == "MUTABLE"
    assert repositories.under(ns) == [f"{ns}/kept", f"{ns}/new"]


def test_an_ecr_token_without_an_expiry_is_taken_to_last_12_hours_and_renewed_before_then() -> None:
    """DESIGN/README: "ECR auth tokens last 12 h"; an answer that gives no expiresAt is held to that."""

    class Ecr:
        calls = 0

        def get_authorization_token(self, **_: object) -> dict[str, Any]:
            Ecr.calls += 1
            return {"authorizationData": [{"authorizationToken": base64.b64encode(b"AWS:tok").decode()}]}

    now = [1_800_000_000.0]
    token = EcrToken(lambda: Ecr(), "123456789012", clock=lambda: now[0])
    got = token.get()
    assert got is not None and (got.username, got.password) == ("AWS", "tok")
    now[0] += 12 * 3600 - REFRESH_BEFORE - 1
    token.get()
    assert Ecr.calls == 1, "within 12 hours less the renewal margin"
    now[0] += 2
    token.get()
    assert Ecr.calls == 2, "renewed before the 12 hours end"


def test_no_aws_credentials_is_bad_input_one_line_exit_2(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """CONTRACTS, Exit codes: "2 | bad input: ... missing credentials". With nothing in boto3's default chain
    (no environment keys, no profile files, no instance metadata) the ECR call is refused before any request, as
    one line naming what it was doing, exit 2 (not 1, a registry's failure). No server is needed: botocore
    finds no credentials before it sends anything (the endpoint is a closed loopback port all the same)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    done = run_cli("ecr", "delete-repos", "--prefix", "p", "--region", REGION, "--dry-run")
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        "nvcf-mirror: error: ecr describe-repositories: no AWS credentials found "
        "(boto3 default chain: env, profile, SSO, IRSA)\n"
    )
