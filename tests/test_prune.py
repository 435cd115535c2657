"""mirror/prune.py: the repositories a prune may touch."""

from __future__ import annotations

import pytest

from provider_helper.errors import InputError
from provider_helper.mirror.prune import repositories_to_prune


def test_prune_never_leaves_the_prefix() -> None:
    assert repositories_to_prune({"c1/app": ["2.0"], "c1/team/app": ["1"]}, "c1") == {
        "c1/app": {"2.0"},
        "c1/team/app": {"1"},
    }
    with pytest.raises(InputError, match=r"refusing to prune c10/app: it is outside c1/"):
        repositories_to_prune({"c1/app": ["2.0"], "c10/app": ["1.0"]}, "c1")
    with pytest.raises(InputError, match="give --target REGISTRY/PREFIX"):
        repositories_to_prune({"app": ["2.0"]}, "")
