"""Before anything is pushed: every registry a run reads or writes answers and accepts our credentials."""

from __future__ import annotations

from provider_helper.content.pool import RegistryPool
from provider_helper.content.registry import RegistryClient
from provider_helper.errors import AnonymousRefusedError, AuthenticationError, DeniedError, RegistryError
from provider_helper.mirror.plan import Job
from provider_helper.oci.reference import Reference
from provider_helper.registry.challenge import repository_scope
from provider_helper.threads import worker_pool


def preflight(registries: RegistryPool, jobs: list[Job], target: str | None) -> dict[str, RegistryError]:
    """Check every registry answers and accepts our credentials before anything is pushed (all at once).

    Stops the run before any artifact is tried when a source asks for credentials we do not hold, or
    refuses the ones we hold (exit 2, naming the credential and, for NGC, the organisation), or the
    target cannot be reached (exit 1). An unreachable source only fails its own artifacts: the others
    may come from elsewhere. Returns those sources, by host, with the reason (the caller says it once)."""
    reads: dict[str, list[tuple[Reference, Reference]]] = {}
    for job in jobs:
        if job.source is not None and not job.skip_reason:
            reads.setdefault(job.source.registry, []).append((job.source, job.artifact.image or job.source))
    unreachable: dict[str, RegistryError] = {}
    with worker_pool(len(reads) + 1, "ping") as pool:
        sources = {host: pool.submit(_check_source, registries, host, refs) for host, refs in sorted(reads.items())}
        checked_target = pool.submit(_check_target, registries, target) if target else None
        for host, future in sources.items():
            refused = future.result()
            if isinstance(refused, RegistryError):
                unreachable[host] = refused
            elif refused:
                raise registries.credentials.missing(host, refused)
        answer = checked_target.result() if checked_target is not None else True
    if isinstance(answer, RegistryError):
        raise answer
    if answer is False and target:
        raise registries.credentials.missing(target)
    return unreachable


def _organisations(refs: list[tuple[Reference, Reference]]) -> list[str]:
    """The first path part of each upstream repository: the NGC organisation of an nvcr.io source."""
    return sorted({upstream.repository.split("/", 1)[0] for _, upstream in refs})


def _check_source(
    registries: RegistryPool, host: str, refs: list[tuple[Reference, Reference]]
) -> list[str] | RegistryError:
    """The organisations (first path part of the upstream repository) that refuse us for want of
    credentials; the error when the registry cannot be reached. A token registry checks credentials by
    granting one token for every repository the run reads. Without a credential, one repository of each
    organisation is asked for too, since a token service may grant an anonymous token that opens nothing;
    a token service that refuses anonymous tokens outright refuses them all."""
    try:
        client = registries.get(host)
        if not client.ping(sorted({repository_scope(ref.repository) for ref, _ in refs})):
            return _organisations(refs)
        if client.auth.credentials.get() is not None:
            return []
        first_of_each = {upstream.repository.split("/", 1)[0]: ref for ref, upstream in reversed(refs)}
        return [org for org, ref in sorted(first_of_each.items()) if _refused(client, ref)]
    except AnonymousRefusedError:
        return _organisations(refs)
    except AuthenticationError:
        raise registries.credentials.rejected(host, _organisations(refs)) from None
    except RegistryError as exc:
        return exc


def _refused(client: RegistryClient, ref: Reference) -> bool:
    try:
        client.head_manifest(ref.repository, ref.reference)
    except DeniedError:
        return True
    except RegistryError:
        pass  # it answered: whatever else is wrong shows when the artifact is copied
    return False


def _check_target(registries: RegistryPool, host: str) -> bool | RegistryError:
    """True/False: our credentials are accepted or none are held; the error when it cannot be reached."""
    try:
        return registries.get(host).ping()
    except AuthenticationError:
        raise
    except RegistryError as exc:
        return exc
