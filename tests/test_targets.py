"""Unit tests of provider_helper/targets.py: target kinds and regions, the access record's repr."""

from __future__ import annotations

import secrets

import pytest

from provider_helper.errors import InputError
from provider_helper.targets import TargetAccess

CANARY = "CANARY" + secrets.token_hex(8)


def test_aws_region_names_the_region_of_an_ecr_target_whose_host_names_none() -> None:
    from provider_helper import targets

    # an ECR target off the ECR form: the endpoint's host (issue 36)
    local = {"AWS_ENDPOINT_URL_ECR": "http://127.0.0.1:4566"}
    assert (
        targets.resolve("127.0.0.1:5000/p", "ecr", "eu-west-1", None, None, {**local, "AWS_REGION": "us-east-1"}).region
        == "eu-west-1"
    )
    assert (
        targets.resolve("127.0.0.1:5000/p", "ecr", None, None, None, {**local, "AWS_REGION": "us-east-1"}).region
        == "us-east-1"
    )
    with pytest.raises(InputError, match="use --aws-region or AWS_REGION"):
        targets.resolve("127.0.0.1:5000/p", "ecr", None, None, None, local)
    host = targets.resolve(
        "123456789012.dkr.ecr.ap-south-1.amazonaws.com/p", "auto", None, None, None, {"AWS_REGION": "us-east-1"}
    )
    assert host.region == "ap-south-1", "the host's own region comes before AWS_REGION"


def test_target_access_repr_hides_the_password() -> None:
    from provider_helper.oci.reference import parse_target

    assert CANARY not in repr(
        TargetAccess(parse_target("registry.example/p"), "generic", username="u", password=CANARY)
    )


def test_an_ecr_token_goes_only_to_an_ecr_host_or_the_host_aws_endpoint_url_ecr_else_aws_endpoint_url_names() -> None:
    """README Security: "An ECR token ... goes only to a registry of the ECR form ... or to the host
    AWS_ENDPOINT_URL_ECR (else AWS_ENDPOINT_URL) names; an ECR target elsewhere is refused (exit 2) before any
    request." (the same through the CLI: tests/test_addresses.py)."""
    from provider_helper import targets

    ecr = "123456789012.dkr.ecr.us-east-1.amazonaws.com/p"
    assert targets.resolve(ecr, "ecr", None, None, None, {}).kind == "ecr"
    for variable in ("AWS_ENDPOINT_URL_ECR", "AWS_ENDPOINT_URL"):
        named = {variable: "https://vpce-1.ecr.example.internal", "AWS_REGION": "us-east-1"}
        assert targets.resolve("vpce-1.ecr.example.internal/p", "ecr", None, None, None, named).kind == "ecr"
        with pytest.raises(InputError) as elsewhere:
            targets.resolve("registry.example.com/p", "ecr", None, None, None, named)
        assert str(elsewhere.value) == (
            "--target registry.example.com: an ECR target, but neither an ECR registry "
            "(ACCOUNT.dkr.ecr.REGION.amazonaws.com[.cn]) nor on the host AWS_ENDPOINT_URL_ECR names: "
            "refusing to send it an ECR token"
        )
    both = {"AWS_ENDPOINT_URL_ECR": "https://ecr.one", "AWS_ENDPOINT_URL": "https://all.two", "AWS_REGION": "x"}
    with pytest.raises(InputError, match="refusing to send it an ECR token"):
        targets.resolve("all.two/p", "ecr", None, None, None, both)  # AWS_ENDPOINT_URL_ECR wins when both are set


def test_the_target_password_comes_from_nvcf_mirror_target_password_with_a_username_and_never_without() -> None:
    """README env: "NVCF_MIRROR_TARGET_PASSWORD | the target password with --target-username (instead of
    --password-stdin)"; each half without the other is one line (exit 2)."""
    from provider_helper import targets
    from provider_helper.registry.credentials import Credential, StaticCredential

    env = {targets.PASSWORD_ENV: CANARY}
    access = targets.resolve("registry.example.com/p", "auto", None, "robot", None, env)
    assert (access.kind, access.username, access.password) == ("generic", "robot", CANARY)
    assert access.credentials() == StaticCredential(Credential("robot", CANARY))
    stdin = targets.resolve("registry.example.com/p", "generic", None, "robot", "from-stdin", env)
    assert stdin.password == "from-stdin", "the password on standard input comes before the variable"
    with pytest.raises(InputError) as alone:
        targets.resolve("registry.example.com/p", "generic", None, None, None, env)
    assert str(alone.value) == (
        "a target password was given (stdin or NVCF_MIRROR_TARGET_PASSWORD) without --target-username"
    )
    with pytest.raises(InputError) as unpaired:
        targets.resolve("registry.example.com/p", "generic", None, "robot", None, {})
    assert str(unpaired.value) == (
        "--target-username needs the password on standard input (--password-stdin) or in NVCF_MIRROR_TARGET_PASSWORD"
    )
    assert targets.resolve("registry.example.com/p", "generic", None, None, None, {}).credentials() is None


@pytest.mark.parametrize(
    ("host", "kind", "region", "account"),
    [
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com", "ecr", "us-east-1", "123456789012"),
        ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "ecr", "cn-north-1", "123456789012"),
        ("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", "ecr", "us-gov-west-1", "123456789012"),
        ("harbor.example.com", "generic", None, None),
        ("cr-example-cn-beijing.cr.volces.com", "generic", None, None),
    ],
)
def test_target_type_auto_is_ecr_for_an_ecr_registry_host_and_generic_for_any_other(
    host: str, kind: str, region: str | None, account: str | None
) -> None:
    """README Targets: "Amazon ECR (--target-type ecr, or automatic for *.dkr.ecr.*.amazonaws.com[.cn] hosts;
    the region and account come from the host)"; --target-type auto is the default (test_defaults)."""
    from provider_helper import targets

    access = targets.resolve(f"{host}/nvcf", "auto", None, None, None, {})
    assert (access.kind, access.region, access.account) == (kind, region, account)
    assert (access.manifest_put_limiter() is not None) == (kind == "ecr")


def test_an_ecr_target_takes_no_username_and_create_repos_needs_an_ecr_target() -> None:
    from provider_helper import targets

    with pytest.raises(InputError) as named:
        targets.resolve("123456789012.dkr.ecr.us-east-1.amazonaws.com/p", "auto", None, "robot", None, {})
    assert str(named.value) == (
        "--target-username is for generic targets; ECR credentials come from AWS (boto3's default chain)"
    )
    generic = targets.resolve("harbor.example.com/p", "generic", None, None, None, {})
    with pytest.raises(InputError) as create:
        generic.repositories()
    assert str(create.value) == (
        "--create-repos works with ECR targets; create the project or repositories at harbor.example.com first"
    )


def test_the_target_password_comes_from_nvcf_mirror_target_password_when_stdin_gives_none() -> None:
    """README env table: "`NVCF_MIRROR_TARGET_PASSWORD` | the target password with `--target-username` (instead of
    `--password-stdin`)". The credential the target is sent: the variable's password when no password came on
    standard input, the one from standard input when both did; the variable without `--target-username` is
    refused as one line."""
    from provider_helper.registry.credentials import Credential
    from provider_helper.targets import PASSWORD_ENV, resolve

    env = {PASSWORD_ENV: CANARY}
    from_env = resolve("registry.example/p", "generic", None, "robot", None, env).credentials()
    assert from_env is not None and from_env.get() == Credential("robot", CANARY)
    from_stdin = resolve("registry.example/p", "generic", None, "robot", "typed", env).credentials()
    assert from_stdin is not None and from_stdin.get() == Credential("robot", "typed")
    with pytest.raises(InputError) as refused:
        resolve("registry.example/p", "generic", None, None, None, env)
    assert str(refused.value) == f"a target password was given (stdin or {PASSWORD_ENV}) without --target-username"
