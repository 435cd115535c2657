output "image_uris" {
  description = "Mirrored images, \"name:tag\" => \"registry/prefix/name@sha256:…\" (digest-pinned)."
  value       = local.enabled ? jsondecode(data.external.status[0].result.image_uris) : {}
}

output "chart_refs" {
  description = "Mirrored Helm charts, \"chart:version\" => \"registry/prefix/chart@sha256:…\"."
  value       = local.enabled ? jsondecode(data.external.status[0].result.chart_refs) : {}
}

output "digests" {
  description = "Every artifact present at the target, \"type:name:tag\" => digest."
  value       = local.enabled ? jsondecode(data.external.status[0].result.digests) : {}
}

output "repository_urls" {
  description = "Repository of every selected artifact, name => \"registry/prefix/name\"."
  value       = local.enabled ? jsondecode(data.external.status[0].result.repository_urls) : {}
}

output "helm_values" {
  description = "Helmfile environment values pointing nvcf-self-managed-stack at the mirror (global.image.*, global.helm.sources)."
  value       = local.enabled ? data.external.status[0].result.helm_values : ""
}

output "missing" {
  description = "Selected artifacts not (yet) at the target."
  value       = local.enabled ? jsondecode(data.external.status[0].result.missing) : []
}

output "registry" {
  description = "The registry host mirrored to."
  value       = local.registry
}

output "repository_prefix" {
  description = "The repository prefix mirrored under (global.image.repository)."
  value       = local.prefix
}

output "versions" {
  description = "The version each selected artifact resolves to, \"type:name:tag\" => version (set_versions = { name = \"latest\" } shows here at plan time)."
  value       = local.enabled ? jsondecode(local.plan.versions) : {}
}
