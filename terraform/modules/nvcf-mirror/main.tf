# nvcf-mirror: the {prefix}/ ECR repositories as Terraform resources, and the NVCF artifacts mirrored into them.
#
# Plan:    data.external.plan resolves what would be copied (repositories, targets, source digests,
#          the copy trigger); copies nothing. Its repository list drives aws_ecr_repository.this.
# Apply:   the repositories are created (or brought back when deleted outside Terraform), then
#          terraform_data.mirror runs `nvcf-mirror mirror` when the copy trigger changes: a map of
#          artifact => target@source-digest, so the plan names each artifact that will be copied
#          again and its new digest. The copier only copies: replacing it deletes nothing.
# Then:    data.external.status reads the digests actually at the target, for the outputs.
# Destroy: removes exactly the repositories in state (force_delete = delete_repositories_on_destroy).
#
# Credentials never pass through here: NGC_API_KEY and AWS credentials come from the environment
# Terraform runs in (and the aws provider its caller configures), so they are in no query,
# trigger, state or output.

locals {
  enabled = var.create_sm_ecr_repos
  prefix  = coalesce(var.repository_prefix, var.cluster_name)

  # The interpreter is asked to import the package first, so a missing install is one line naming it
  # and how to install it (the module may be vendored anywhere, so the checkout's path is the user's to fill in).
  program = [var.python, "-c", "import sys\ntry:\n    from provider_helper.terraform import run\nexcept ImportError as e:\n    sys.exit(f'nvcf-mirror: {sys.executable} cannot import provider_helper ({e}); install it from the nvcf-mirror repository or a wheel built there: {sys.executable} -m pip install /path/to/nvcf-mirror')\nrun()"]

  selection = {
    repository_prefix   = local.prefix
    aws_region          = var.aws_region
    target_type         = "ecr"
    manifest_path       = var.manifest_path != null ? var.manifest_path : ""
    release             = var.release != null ? var.release : ""
    groups              = join(",", var.groups)
    exclude             = join(",", var.exclude)
    platforms           = join(",", var.platforms)
    source_registry     = var.source_registry
    source_map          = jsonencode(var.source_map)
    insecure_registries = join(",", var.insecure_registries)
    ca_file             = var.ca_file != null ? var.ca_file : ""
    set_versions        = jsonencode(var.set_versions)
    signatures          = var.copy_signatures ? "true" : "false"
  }
  plan         = local.enabled ? data.external.plan[0].result : {}
  registry     = local.enabled ? local.plan.registry : ""
  repositories = local.enabled ? toset(jsondecode(local.plan.repositories)) : toset([])

  # What the apply step reads from NVCF_MIRROR_SETTINGS: values only, never secrets.
  settings = merge(local.selection, {
    target_registry  = local.registry
    create_repos     = "false"
    prune_superseded = var.prune_superseded ? "true" : "false"
  })
}

data "external" "plan" {
  count   = local.enabled ? 1 : 0
  program = local.program
  query   = merge(local.selection, { mode = "plan", target_registry = var.target_registry })
}

data "aws_caller_identity" "current" {
  count = local.enabled ? 1 : 0
}

resource "aws_ecr_repository" "this" {
  for_each = local.repositories

  name                 = each.key
  image_tag_mutability = var.image_tag_mutability
  force_delete         = var.delete_repositories_on_destroy
  tags                 = var.repository_tags

  image_scanning_configuration {
    scan_on_push = var.scan_on_push
  }

  encryption_configuration {
    encryption_type = var.encryption_type
    kms_key         = var.encryption_type == "KMS" ? var.kms_key : null
  }

  lifecycle {
    precondition {
      condition     = local.plan.registry_account == "" || local.plan.registry_account == data.aws_caller_identity.current[0].account_id
      error_message = "target_registry is in account ${local.plan.registry_account}, but the aws provider given to this module is in account ${data.aws_caller_identity.current[0].account_id}: pass a provider for the registry's account."
    }
  }
}

resource "aws_ecr_lifecycle_policy" "this" {
  for_each = var.lifecycle_policy_file != null ? aws_ecr_repository.this : {}

  repository = each.value.name
  policy     = file(var.lifecycle_policy_file)
}

resource "aws_ecr_repository_policy" "pull" {
  for_each = length(var.pull_principals) > 0 ? aws_ecr_repository.this : {}

  repository = each.value.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "NvcfMirrorPull"
      Effect    = "Allow"
      Principal = { AWS = var.pull_principals }
      Action    = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    }]
  })
}

resource "terraform_data" "mirror" {
  count      = local.enabled ? 1 : 0
  depends_on = [aws_ecr_repository.this, aws_ecr_lifecycle_policy.this, aws_ecr_repository_policy.pull]

  triggers_replace = jsondecode(local.plan.copy_trigger)

  provisioner "local-exec" {
    command = "\"$NVCF_MIRROR_PYTHON\" -m provider_helper.terraform mirror"
    environment = {
      NVCF_MIRROR_PYTHON   = var.python
      NVCF_MIRROR_SETTINGS = jsonencode(local.settings)
    }
  }
}

data "external" "status" {
  count   = local.enabled ? 1 : 0
  program = local.program
  query = merge(local.selection, {
    mode            = "status"
    target_registry = local.registry
    mirror_id       = terraform_data.mirror[0].id
  })
}

# A warning, not an error: a kms_key beside AES256 was silently ignored by earlier versions of this module, and
# configurations that carry one must keep applying.
check "kms_key_is_used" {
  assert {
    condition     = var.kms_key == null || var.encryption_type == "KMS"
    error_message = "kms_key is set but encryption_type is ${var.encryption_type}: the key is not used; set encryption_type = \"KMS\" to use it, or drop kms_key."
  }
}
