# Harbor, Volcano Engine CR or any OCI registry: no AWS, no repository creation (create the
# Harbor project first). Credentials come from `docker login` / `podman login` on the machine
# that runs Terraform; every value reaches the step through its environment.

locals {
  settings = {
    target_type       = "generic"
    target_registry   = var.registry
    repository_prefix = var.repository_prefix
    groups            = join(",", var.groups)
    platforms         = join(",", var.platforms)
    create_repos      = "false"
  }
}

resource "terraform_data" "nvcf_mirror" {
  triggers_replace = local.settings

  provisioner "local-exec" {
    command = "\"$NVCF_MIRROR_PYTHON\" -m provider_helper.terraform mirror"
    environment = {
      NVCF_MIRROR_PYTHON   = var.python
      NVCF_MIRROR_SETTINGS = jsonencode(local.settings)
    }
  }
}
