output "image_repository" {
  description = "global.image.registry/global.image.repository for the Helmfile environment."
  value       = "${var.registry}/${var.repository_prefix}"
}
