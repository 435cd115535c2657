output "image_uris" {
  description = "Mirrored images, \"name:tag\" => digest-pinned ECR reference."
  value       = module.nvcf_mirror.image_uris
}

output "chart_refs" {
  description = "Mirrored Helm charts, digest-pinned."
  value       = module.nvcf_mirror.chart_refs
}

output "repository_urls" {
  description = "ECR repository URLs by name."
  value       = module.nvcf_mirror.repository_urls
}

output "helm_values" {
  description = "Paste into the nvcf-self-managed-stack Helmfile environment."
  value       = module.nvcf_mirror.helm_values
}

output "digests" {
  description = "Every mirrored artifact's digest, \"type:name:tag\" => sha256."
  value       = module.nvcf_mirror.digests
}

output "versions" {
  description = "The version each selected artifact resolves to (set_versions = { name = \"latest\" } shows here at plan time)."
  value       = module.nvcf_mirror.versions
}
