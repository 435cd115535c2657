"""Unit tests of provider_helper/targets.py: target kinds and regions."""

from __future__ import annotations

import pytest

from provider_helper.errors import InputError


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
