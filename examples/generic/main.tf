# Harbor, Volcano Engine CR or any OCI registry: no AWS, no repository creation (create the Harbor
# project or CR namespace first). Credentials come from `docker login` / `podman login` on the
# machine that runs Terraform; NGC_API_KEY from its environment. Nothing secret is in a query,
# trigger, state or output.
#
# Plan:  data.external.plan resolves what would be copied (targets and source digests); copies nothing.
# Apply: terraform_data.nvcf_mirror copies when its trigger changes: a map of artifact =>
#        target@source-digest, so a moved tag shows in the plan by name with its new digest and is
#        copied again, as in examples/ecr.
# Then:  data.external.status reads the digests at the target for the outputs.

locals {
  # The interpreter is asked to import the package first, so a missing install is one line naming it.
  program = [var.python, "-c", "import sys\ntry:\n    from provider_helper.terraform import run\nexcept ImportError as e:\n    sys.exit(f'nvcf-mirror: {sys.executable} cannot import provider_helper ({e}); install it from the nvcf-mirror repository or a wheel built there: {sys.executable} -m pip install /path/to/nvcf-mirror')\nrun()"]

  selection = {
    target_type         = "generic"
    target_registry     = var.registry
    repository_prefix   = var.repository_prefix
    manifest_path       = var.manifest_path != null ? var.manifest_path : ""
    groups              = join(",", var.groups)
    platforms           = join(",", var.platforms)
    source_registry     = var.source_registry
    insecure_registries = join(",", var.insecure_registries)
    ca_file             = var.ca_file != null ? var.ca_file : ""
    set_versions        = jsonencode(var.set_versions)
    signatures          = var.copy_signatures ? "true" : "false"
  }
  plan = data.external.plan.result
}

data "external" "plan" {
  program = local.program
  query   = merge(local.selection, { mode = "plan" })
}

resource "terraform_data" "nvcf_mirror" {
  triggers_replace = jsondecode(local.plan.copy_trigger)

  provisioner "local-exec" {
    command = "\"$NVCF_MIRROR_PYTHON\" -m provider_helper.terraform mirror"
    environment = {
      NVCF_MIRROR_PYTHON   = var.python
      NVCF_MIRROR_SETTINGS = jsonencode(merge(local.selection, { create_repos = "false" }))
    }
  }
}

data "external" "status" {
  program = local.program
  query   = merge(local.selection, { mode = "status", mirror_id = terraform_data.nvcf_mirror.id })
}
