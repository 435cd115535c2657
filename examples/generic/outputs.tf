output "image_repository" {
  description = "global.image.registry/global.image.repository for the Helmfile environment."
  value       = "${var.registry}/${var.repository_prefix}"
}

output "image_uris" {
  description = "Mirrored images, \"name:tag\" => \"registry/prefix/name@sha256:…\" (digest-pinned)."
  value       = jsondecode(data.external.status.result.image_uris)
}

output "chart_refs" {
  description = "Mirrored Helm charts, \"chart:version\" => \"registry/prefix/chart@sha256:…\"."
  value       = jsondecode(data.external.status.result.chart_refs)
}

output "digests" {
  description = "Every artifact present at the target, \"type:name:tag\" => digest."
  value       = jsondecode(data.external.status.result.digests)
}

output "missing" {
  description = "Selected artifacts not (yet) at the target."
  value       = jsondecode(data.external.status.result.missing)
}

output "versions" {
  description = "The version each selected artifact resolves to (set_versions = { name = \"latest\" } shows here at plan time)."
  value       = jsondecode(local.plan.versions)
}

output "helm_values" {
  description = "Paste into the nvcf-self-managed-stack Helmfile environment."
  value       = data.external.status.result.helm_values
}
