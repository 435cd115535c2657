output "image_uris" {
  description = "Mirrored images, digest-pinned."
  value       = module.nvcf_mirror.image_uris
}

output "chart_refs" {
  description = "Mirrored charts, digest-pinned."
  value       = module.nvcf_mirror.chart_refs
}

output "digests" {
  description = "Every mirrored artifact's digest."
  value       = module.nvcf_mirror.digests
}

output "repository_urls" {
  description = "Repositories, by name."
  value       = module.nvcf_mirror.repository_urls
}

output "helm_values" {
  description = "Helmfile values for nvcf-self-managed-stack."
  value       = module.nvcf_mirror.helm_values
}

output "versions" {
  description = "The version each selected artifact resolves to (shown at plan time)."
  value       = module.nvcf_mirror.versions
}
