# nvcf-mirror: create the {prefix}/ ECR repositories and mirror NVCF artifacts into them.
#
# Plan:  data.external.plan resolves what would be copied (targets, source digests, a fingerprint); copies nothing.
# Apply: terraform_data.mirror runs `nvcf-mirror mirror --create-repos` when the fingerprint changes.
# Then:  data.external.status reads the digests actually at the target, for the outputs.
#
# Credentials never pass through here: NGC_API_KEY and AWS credentials come from the environment
# Terraform runs in, so they are in no query, trigger, state or output.

locals {
  enabled = var.create_sm_ecr_repos
  prefix  = coalesce(var.repository_prefix, var.cluster_name)

  selection = {
    repository_prefix   = local.prefix
    aws_region          = var.aws_region
    target_type         = "ecr"
    manifest_path       = var.manifest_path != null ? var.manifest_path : ""
    groups              = join(",", var.groups)
    platforms           = join(",", var.platforms)
    source_registry     = var.source_registry
    insecure_registries = join(",", var.insecure_registries)
  }
  registry = local.enabled ? data.external.plan[0].result.registry : ""

  # What the apply and destroy steps read from NVCF_MIRROR_SETTINGS: values only, never secrets.
  settings = merge(local.selection, {
    target_registry                = local.registry
    create_repos                   = "true"
    scan_on_push                   = tostring(var.scan_on_push)
    tag_mutability                 = var.image_tag_mutability
    encryption                     = var.encryption_type
    kms_key                        = var.kms_key != null ? var.kms_key : ""
    repository_tags                = jsonencode(var.repository_tags)
    lifecycle_policy_file          = var.lifecycle_policy_file != null ? var.lifecycle_policy_file : ""
    delete_repositories_on_destroy = tostring(var.delete_repositories_on_destroy)
  })
}

data "external" "plan" {
  count   = local.enabled ? 1 : 0
  program = [var.python, "-m", "provider_helper.terraform"]
  query   = merge(local.selection, { mode = "plan", target_registry = var.target_registry })
}

resource "terraform_data" "mirror" {
  count = local.enabled ? 1 : 0

  triggers_replace = data.external.plan[0].result.fingerprint
  input = {
    python   = var.python
    settings = jsonencode(local.settings)
  }

  provisioner "local-exec" {
    command = "\"$NVCF_MIRROR_PYTHON\" -m provider_helper.terraform mirror"
    environment = {
      NVCF_MIRROR_PYTHON   = var.python
      NVCF_MIRROR_SETTINGS = jsonencode(local.settings)
    }
  }

  provisioner "local-exec" {
    when    = destroy
    command = "\"$NVCF_MIRROR_PYTHON\" -m provider_helper.terraform destroy"
    environment = {
      NVCF_MIRROR_PYTHON   = self.input.python
      NVCF_MIRROR_SETTINGS = self.input.settings
    }
  }
}

data "external" "status" {
  count   = local.enabled ? 1 : 0
  program = [var.python, "-m", "provider_helper.terraform"]
  query = merge(local.selection, {
    mode            = "status"
    target_registry = local.registry
    mirror_id       = terraform_data.mirror[0].id
  })
}
