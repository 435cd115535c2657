"""NGC resources against the NGC API stand-in (provider_helper/sandbox/ngcserver.py): download, push, pull, extract."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from helpers import run_cli, skopeo_raw, tgz, write_manifest
from hostile import Reply, ScriptedServer

from provider_helper.sandbox.ngcserver import NgcStandIn
from provider_helper.sandbox.stack import Sandbox

BASE = "0833294136851237/nvcf-ncp-staging/nvcf-base:0.1.4"
CLI = "0833294136851237/nvcf-ncp-staging/nvcf-cli:0.0.24"


@pytest.fixture
def ngc() -> Iterator[NgcStandIn]:
    server = NgcStandIn(personal_key="nvapi-" + os.urandom(8).hex(), legacy_key="legacy" + os.urandom(8).hex())
    server.resources[BASE] = {
        "nvcf-base-0.1.4.tar.gz": tgz({"nvcf-base/main.tf": b"# terraform\n", "nvcf-base/README.md": b"readme\n"})
    }
    server.resources[CLI] = {
        f"{platform}/nvcf-cli-{platform}-0.0.24.tar.gz": tgz({f"nvcf-cli-{platform}-0.0.24/nvcf-cli": os.urandom(3000)})
        for platform in ("linux-amd64", "linux-arm64", "darwin-arm64")
    }
    server.unlisted_urls.add("linux-arm64/nvcf-cli-linux-arm64-0.0.24.tar.gz")
    yield server
    server.close()


def _env(ngc: NgcStandIn, key: str, sandbox: Sandbox | None = None) -> dict[str, str]:
    env = {"NGC_API_KEY": key, "NVCF_MIRROR_NGC_API_URL": ngc.url, "NVCF_MIRROR_NGC_AUTHN_URL": ngc.url}
    if sandbox:
        env["DOCKER_CONFIG"] = str(sandbox.docker_config)
    return env


def _manifest(tmp_path: Path, *sources: str) -> Path:
    return write_manifest(
        tmp_path / "m.yaml",
        [{"type": "resource", "source": s, "group": "deployment-resources"} for s in sources],
        groups=[{"name": "deployment-resources", "default": False}],
    )


@pytest.mark.parametrize("key_kind", ["personal", "legacy"])
def test_download_writes_files_as_the_ngc_cli_does(ngc: NgcStandIn, tmp_path: Path, key_kind: str) -> None:
    key = ngc.personal_key if key_kind == "personal" else ngc.legacy_key
    dest = tmp_path / "dest"
    done = run_cli(
        "resources",
        "download",
        "--manifest",
        str(_manifest(tmp_path, BASE, CLI)),
        "--dest",
        str(dest),
        env=_env(ngc, key),
    )
    assert done.returncode == 0, done.stderr
    assert (dest / "nvcf-base_v0.1.4" / "nvcf-base-0.1.4.tar.gz").read_bytes() == ngc.resources[BASE][
        "nvcf-base-0.1.4.tar.gz"
    ]
    for path, data in ngc.resources[CLI].items():  # three files over two pages; one URL asked for by ?path=
        assert (dest / "nvcf-cli_v0.0.24" / path).read_bytes() == data
    assert ngc.path_queries == ["linux-arm64/nvcf-cli-linux-arm64-0.0.24.tar.gz"]
    assert ngc.user_agents == {f"nvcf-mirror/{version('nvcf-mirror')}"}  # API, token service and storage alike
    assert key not in done.stdout + done.stderr


def test_download_without_a_group_takes_the_resources_only_and_never_looks_up_a_chart_or_image(
    ngc: NgcStandIn, servers: list[Any], tmp_path: Path
) -> None:
    """The README's `resources download --dest ./ngc --extract`: the charts and images of the manifest are
    not its business, so neither a Helm repository (it records every request) nor a registry is asked."""
    helm = ScriptedServer("127.0.0.2", lambda *_: Reply(404))
    registry = ScriptedServer("127.0.0.3", lambda *_: Reply(404))
    servers += [helm, registry]
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [
            {"type": "resource", "source": BASE, "group": "deployment-resources"},
            {"type": "chart", "repo": f"{helm.url}/nvidia", "chart": "c", "version": "1.0.0", "group": "charts"},
            {"type": "image", "source": f"{registry.host}/nvidia/app:1", "group": "charts"},
        ],
        groups=[{"name": "deployment-resources", "default": False}, {"name": "charts", "default": True}],
    )
    dest = tmp_path / "ngc"
    done = run_cli(
        "resources",
        "download",
        "--manifest",
        str(manifest),
        "--dest",
        str(dest),
        "--extract",
        env=_env(ngc, ngc.personal_key),
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in dest.iterdir()) == ["nvcf-base", "nvcf-base_v0.1.4"]
    assert helm.seen == [] and registry.seen == [], "no chart index or registry was asked"


@pytest.mark.parametrize("wrong", ["legacy-wrong-key", "nvapi-wrong-key"])
def test_wrong_key_exits_2_without_showing_it(ngc: NgcStandIn, tmp_path: Path, wrong: str) -> None:
    done = run_cli(
        "resources",
        "download",
        "--manifest",
        str(_manifest(tmp_path, BASE)),
        "--dest",
        str(tmp_path / "d"),
        env=_env(ngc, wrong),
    )
    assert done.returncode == 2 and wrong not in done.stderr
    assert done.stderr.strip().splitlines() == [
        f"nvcf-mirror: error: authentication failed for 127.0.0.1: NGC refused NGC_API_KEY for {BASE}: "
        "it must be an API key of the NGC organisation 0833294136851237"
    ]


def test_without_a_key_a_public_resource_downloads_and_a_private_one_names_ngc_api_key_and_its_organisation(
    ngc: NgcStandIn, tmp_path: Path
) -> None:
    public = "nvidia/nvcf/nvcf-self-managed-stack:1.0.1"
    ngc.public_orgs.add("nvidia")
    ngc.resources[public] = {"helmfile.yaml": b"releases: []\n"}
    env = {k: v for k, v in _env(ngc, "").items() if k != "NGC_API_KEY"}
    done = run_cli(
        "resources", "download", "--manifest", str(_manifest(tmp_path, public)), "--dest", str(tmp_path / "d"), env=env
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "d" / "nvcf-self-managed-stack_v1.0.1" / "helmfile.yaml").read_bytes() == b"releases: []\n"
    assert ngc.anonymous_requests > 0 and ngc.token_requests == 0
    private = run_cli(
        "resources", "download", "--manifest", str(_manifest(tmp_path, BASE)), "--dest", str(tmp_path / "p"), env=env
    )
    assert private.returncode == 2
    assert private.stderr.strip().splitlines() == [
        f"nvcf-mirror: error: 127.0.0.1 refused an anonymous request for {BASE} and NGC_API_KEY is not "
        "set: export NGC_API_KEY with an API key of the NGC organisation 0833294136851237"
    ]


def test_push_and_pull_round_trip_byte_identical(ngc: NgcStandIn, sandbox: Sandbox, ns: str, tmp_path: Path) -> None:
    manifest = _manifest(tmp_path, BASE, CLI)
    target = f"{sandbox.target.host}/{ns}"
    pushed = run_cli(
        "resources",
        "download",
        "--manifest",
        str(manifest),
        "--dest",
        str(tmp_path / "dl"),
        "--push",
        "--target",
        target,
        env=_env(ngc, ngc.personal_key, sandbox),
    )
    assert pushed.returncode == 0, pushed.stderr
    artifact = json.loads(skopeo_raw(f"{target}/nvcf-cli:0.0.24", authfile=sandbox.docker_config / "config.json"))
    assert artifact["artifactType"] == "application/vnd.nvidia.ngc.resource.v1"
    assert sorted(layer["annotations"]["org.opencontainers.image.title"] for layer in artifact["layers"]) == sorted(
        ngc.resources[CLI]
    )
    pulled = run_cli(
        "resources",
        "pull",
        "--manifest",
        str(manifest),
        "--target",
        target,
        "--dest",
        str(tmp_path / "air"),
        env={"DOCKER_CONFIG": str(sandbox.docker_config)},
    )
    assert pulled.returncode == 0, pulled.stderr
    for key, files in ngc.resources.items():
        folder = tmp_path / "air" / f"{key.rsplit('/', 1)[1].replace(':', '_v')}"
        assert {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()} == files


@pytest.mark.parametrize(
    "archive",
    [
        tgz({"nvcf-base/../../escaped.txt": b"x"}),
        tgz({"/tmp/nvcf-mirror-absolute-escape.txt": b"x"}),
        tgz({"nvcf-base/ok.txt": b"x"}, links={"nvcf-base/link": "../../../escaped-link"}),
    ],
    ids=["dot-dot", "absolute", "symlink-out"],
)
def test_extract_refuses_malicious_archives_and_writes_nothing_outside_dest(
    ngc: NgcStandIn, tmp_path: Path, archive: bytes
) -> None:
    ngc.resources[BASE] = {"nvcf-base-0.1.4.tar.gz": archive}
    dest = tmp_path / "work" / "dest"
    done = run_cli(
        "resources",
        "download",
        "--manifest",
        str(_manifest(tmp_path, BASE)),
        "--dest",
        str(dest),
        "--extract",
        env=_env(ngc, ngc.personal_key),
    )
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "refusing to extract" in done.stderr and "points outside the archive" in done.stderr
    outside = [p for p in (tmp_path / "work").rglob("*") if not p.is_relative_to(dest)] + list(
        tmp_path.glob("escaped*")
    )
    assert outside == [] and not Path("/tmp/nvcf-mirror-absolute-escape.txt").exists()
    assert not (dest / "nvcf-base").exists(), "nothing of a refused archive is unpacked"


def _extract(ngc: NgcStandIn, tmp_path: Path, dest: Path) -> None:
    done = run_cli(
        "resources",
        "download",
        "--manifest",
        str(_manifest(tmp_path, BASE)),
        "--dest",
        str(dest),
        "--extract",
        env=_env(ngc, ngc.personal_key),
    )
    assert done.returncode == 0, done.stderr


def test_extract_unpacks_a_good_archive(ngc: NgcStandIn, tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    _extract(ngc, tmp_path, dest)
    main = dest / "nvcf-base" / "main.tf"
    assert main.read_text() == "# terraform\n", "the archive's own nvcf-base/ is ./ngc/nvcf-base/, as the README says"
    assert sorted(p.name for p in dest.iterdir()) == ["nvcf-base", "nvcf-base_v0.1.4"]


def test_an_archive_whose_link_leaves_its_own_folder_is_unpacked_inside_dest_name_folder_kept(
    ngc: NgcStandIn, tmp_path: Path
) -> None:
    """Its folder is DEST/<name>/ only when every link stays inside it: else a link could reach a sibling of DEST."""
    links = {"nvcf-base/link": "../nvcf-base_v0.1.4/nvcf-base-0.1.4.tar.gz"}
    ngc.resources[BASE] = {"nvcf-base-0.1.4.tar.gz": tgz({"nvcf-base/ok.txt": b"x"}, links=links)}
    dest = tmp_path / "dest"
    _extract(ngc, tmp_path, dest)
    link = dest / "nvcf-base" / "nvcf-base" / "link"
    assert link.is_symlink()
    assert (link.parent / os.readlink(link)).resolve(strict=False).is_relative_to((dest / "nvcf-base").resolve())


def test_extract_unpacks_an_archive_without_its_own_folder_into_dest_name(ngc: NgcStandIn, tmp_path: Path) -> None:
    ngc.resources[BASE] = {"nvcf-base-0.1.4.tar.gz": tgz({"main.tf": b"# terraform\n", "modules/x.tf": b"# x\n"})}
    dest = tmp_path / "dest"
    _extract(ngc, tmp_path, dest)
    assert (dest / "nvcf-base" / "main.tf").read_text() == "# terraform\n"
    assert (dest / "nvcf-base" / "modules" / "x.tf").is_file()
    assert sorted(p.name for p in dest.iterdir()) == ["nvcf-base", "nvcf-base_v0.1.4"]


def test_mirror_copies_resources_and_a_rerun_downloads_nothing(
    ngc: NgcStandIn, sandbox: Sandbox, ns: str, tmp_path: Path
) -> None:
    manifest = _manifest(tmp_path, BASE, CLI)
    args = [
        "mirror",
        "--manifest",
        str(manifest),
        "--group",
        "deployment-resources",
        "--target",
        f"{sandbox.target.host}/{ns}",
    ]
    first = run_cli(*args, "--result-file", str(tmp_path / "r1.json"), env=_env(ngc, ngc.personal_key, sandbox))
    assert first.returncode == 0, first.stderr
    assert [a["status"] for a in json.loads((tmp_path / "r1.json").read_text())["artifacts"]] == ["copied", "copied"]
    downloads = len(ngc.storage_requests)
    again = run_cli(*args, "--result-file", str(tmp_path / "r2.json"), env=_env(ngc, ngc.personal_key, sandbox))
    assert again.returncode == 0, again.stderr
    second = json.loads((tmp_path / "r2.json").read_text())["artifacts"]
    assert [a["status"] for a in second] == ["present", "present"] and len(ngc.storage_requests) == downloads
    first_digests = [a["digest"] for a in json.loads((tmp_path / "r1.json").read_text())["artifacts"]]
    assert [a["digest"] for a in second] == first_digests
    verified = run_cli(
        "verify",
        "--manifest",
        str(manifest),
        "--group",
        "deployment-resources",
        "--target",
        f"{sandbox.target.host}/{ns}",
        env=_env(ngc, ngc.personal_key, sandbox),
    )
    assert verified.returncode == 0, verified.stderr


def test_save_and_load_carry_resources_into_the_air_gap(
    ngc: NgcStandIn, sandbox: Sandbox, ns: str, tmp_path: Path
) -> None:
    manifest = _manifest(tmp_path, BASE)
    saved = run_cli(
        "save",
        "--manifest",
        str(manifest),
        "--group",
        "deployment-resources",
        "--to",
        str(tmp_path / "layout"),
        env=_env(ngc, ngc.personal_key),
    )
    assert saved.returncode == 0, saved.stderr
    loaded = run_cli(
        "load",
        "--from",
        str(tmp_path / "layout"),
        "--target",
        f"{sandbox.target.host}/{ns}",
        env={"DOCKER_CONFIG": str(sandbox.docker_config)},
    )
    assert loaded.returncode == 0, loaded.stderr
    pulled = run_cli(
        "resources",
        "pull",
        "--manifest",
        str(manifest),
        "--target",
        f"{sandbox.target.host}/{ns}",
        "--dest",
        str(tmp_path / "air"),
        env={"DOCKER_CONFIG": str(sandbox.docker_config)},
    )
    assert pulled.returncode == 0, pulled.stderr
    assert (tmp_path / "air" / "nvcf-base_v0.1.4" / "nvcf-base-0.1.4.tar.gz").read_bytes() == ngc.resources[BASE][
        "nvcf-base-0.1.4.tar.gz"
    ]


def test_a_version_still_uploading_is_refused_with_a_clear_line(ngc: NgcStandIn, tmp_path: Path) -> None:
    ngc.status[BASE] = "UPLOAD_PENDING"
    done = run_cli(
        "resources",
        "download",
        "--manifest",
        str(_manifest(tmp_path, BASE)),
        "--dest",
        str(tmp_path / "d"),
        env=_env(ngc, ngc.personal_key),
    )
    assert done.returncode == 1
    assert f"{BASE} is not ready for download: NGC reports status UPLOAD_PENDING" in done.stderr
    assert ngc.storage_requests == []


def test_an_interrupted_file_resumes_with_a_range_request(ngc: NgcStandIn, tmp_path: Path) -> None:
    path = "linux-amd64/nvcf-cli-linux-amd64-0.0.24.tar.gz"
    ngc.fail_storage_after[path] = 1000  # the connection drops after 1000 bytes, once
    dest = tmp_path / "dest"
    done = run_cli(
        "resources",
        "download",
        "--manifest",
        str(_manifest(tmp_path, CLI)),
        "--dest",
        str(dest),
        env=_env(ngc, ngc.personal_key),
    )
    assert done.returncode == 0, done.stderr
    assert (dest / "nvcf-cli_v0.0.24" / path).read_bytes() == ngc.resources[CLI][path]
    assert ngc.range_requests == [f"{path} bytes=1000-"]


def test_a_storage_host_that_ignores_range_does_not_corrupt_a_resumed_download(ngc: NgcStandIn, tmp_path: Path) -> None:
    """Asked for bytes=1000-, it answers 200 with the whole file: the file starts again, it is not appended."""
    path = "linux-amd64/nvcf-cli-linux-amd64-0.0.24.tar.gz"
    ngc.fail_storage_after[path] = 1000
    ngc.ignore_range = True
    dest = tmp_path / "dest"
    done = run_cli(
        "resources",
        "download",
        "--manifest",
        str(_manifest(tmp_path, CLI)),
        "--dest",
        str(dest),
        env=_env(ngc, ngc.personal_key),
    )
    assert done.returncode == 0, done.stderr
    assert ngc.range_requests == [f"{path} bytes=1000-"], "it did resume with a Range request"
    assert (dest / "nvcf-cli_v0.0.24" / path).read_bytes() == ngc.resources[CLI][path]


def test_a_legacy_key_token_is_renewed_during_a_run(ngc: NgcStandIn, tmp_path: Path) -> None:
    # every API answer takes 0.4 s; a token lasts 2 s and is renewed after 1 s
    ngc.token_lifetime, ngc.api_delay = 2, 0.4
    dest = tmp_path / "dest"
    done = run_cli(
        "resources",
        "download",
        "--manifest",
        str(_manifest(tmp_path, BASE, CLI)),
        "--dest",
        str(dest),
        env=_env(ngc, ngc.legacy_key),
    )
    assert done.returncode == 0, done.stderr
    assert ngc.token_requests >= 3
    assert ngc.unauthorized == 0, "renewed before it ran out, not after a refusal"
    assert (dest / "nvcf-cli_v0.0.24").is_dir()


def test_a_token_refused_early_is_renewed_once_and_the_run_goes_on(ngc: NgcStandIn, tmp_path: Path) -> None:
    """The service may expire a token before its expires_in: one 401, one new token, no error."""
    from provider_helper.artifacts import ResourceRef
    from provider_helper.ngc_api import NgcClient

    client = NgcClient(ngc.legacy_key, ngc.url, ngc.url)
    try:
        ref = ResourceRef("0833294136851237", "nvcf-ncp-staging", "nvcf-base", "0.1.4")
        assert client.latest_version(ref) == "0.1.4"
        ngc._tokens.clear()  # the service forgets every token it issued
        assert [f.path for f in client.files(ref)] == ["nvcf-base-0.1.4.tar.gz"]
    finally:
        client.close()
    assert ngc.unauthorized == 1 and ngc.token_requests == 2


def test_an_unaccepted_licence_is_one_line_naming_the_artifact(ngc: NgcStandIn, tmp_path: Path) -> None:
    ngc.licence_required.add(BASE.split(":")[0])
    done = run_cli(
        "resources",
        "download",
        "--manifest",
        str(_manifest(tmp_path, BASE)),
        "--dest",
        str(tmp_path / "d"),
        env=_env(ngc, ngc.personal_key),
    )
    assert done.returncode == 2
    assert f"accept the licence terms for {BASE} in the NGC catalog" in done.stderr and done.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("flag", "value", "says"),
    [("--max-extract-members", "2", "more than 2 entries"), ("--max-extract-bytes", "1000", "more than 1000 bytes")],
    ids=["members", "bytes"],
)
def test_extract_limits_are_set_by_their_flags(
    ngc: NgcStandIn, tmp_path: Path, flag: str, value: str, says: str
) -> None:
    ngc.resources[BASE] = {"nvcf-base-0.1.4.tar.gz": tgz({f"nvcf-base/f{i}.txt": b"x" * 600 for i in range(3)})}
    dest = tmp_path / "dest"
    refused = run_cli(
        "resources",
        "download",
        "--manifest",
        str(_manifest(tmp_path, BASE)),
        "--dest",
        str(dest),
        "--extract",
        flag,
        value,
        env=_env(ngc, ngc.personal_key),
    )
    assert refused.returncode != 0 and "refusing to extract" in refused.stderr and says in refused.stderr, (
        refused.stderr
    )
    assert not (dest / "nvcf-base").exists()
    allowed = run_cli(
        "resources",
        "download",
        "--manifest",
        str(_manifest(tmp_path, BASE)),
        "--dest",
        str(dest),
        "--extract",
        env=_env(ngc, ngc.personal_key),
    )
    assert allowed.returncode == 0, allowed.stderr
    assert (dest / "nvcf-base" / "f2.txt").read_bytes() == b"x" * 600


def test_push_stores_exactly_the_files_ngc_listed_and_no_planted_link_is_followed(
    ngc: NgcStandIn, sandbox: Sandbox, ns: str, tmp_path: Path
) -> None:
    """A shared DEST: another user left a link to a private key among the version's files, and links
    under the names a download used to write first (``.NAME.part``). Neither is pushed nor written through."""
    secret = tmp_path / "id_rsa"
    secret.write_text("-----BEGIN OPENSSH PRIVATE KEY----- planted")
    folder = tmp_path / "dl" / "nvcf-base_v0.1.4"
    folder.mkdir(parents=True)
    (folder / "id_rsa").symlink_to(secret)
    (folder / "notes.txt").write_text("not a file NGC lists")
    victim = tmp_path / "victim"
    victim.write_text("the victim's own file")
    (folder / ".nvcf-base-0.1.4.tar.gz.part").symlink_to(victim)
    target = f"{sandbox.target.host}/{ns}"
    pushed = run_cli(
        "resources",
        "download",
        "--manifest",
        str(_manifest(tmp_path, BASE)),
        "--dest",
        str(tmp_path / "dl"),
        "--push",
        "--target",
        target,
        env=_env(ngc, ngc.personal_key, sandbox),
    )
    assert pushed.returncode == 0, pushed.stderr
    artifact = json.loads(skopeo_raw(f"{target}/nvcf-base:0.1.4", authfile=sandbox.docker_config / "config.json"))
    assert [layer["annotations"]["org.opencontainers.image.title"] for layer in artifact["layers"]] == [
        "nvcf-base-0.1.4.tar.gz"
    ]
    assert victim.read_text() == "the victim's own file"
    assert (folder / "nvcf-base-0.1.4.tar.gz").read_bytes() == ngc.resources[BASE]["nvcf-base-0.1.4.tar.gz"]


def test_a_version_folder_planted_as_a_link_is_refused_and_nothing_is_written_through_it(
    ngc: NgcStandIn, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "dl").mkdir()
    (tmp_path / "dl" / "nvcf-base_v0.1.4").symlink_to(elsewhere)
    done = run_cli(
        "resources",
        "download",
        "--manifest",
        str(_manifest(tmp_path, BASE)),
        "--dest",
        str(tmp_path / "dl"),
        env=_env(ngc, ngc.personal_key),
    )
    assert done.returncode == 2 and "not a folder of this user (another user's, or a link)" in done.stderr, done.stderr
    assert list(elsewhere.iterdir()) == []
