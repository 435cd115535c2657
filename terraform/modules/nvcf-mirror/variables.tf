variable "create_sm_ecr_repos" {
  description = "The switch: create the {cluster_name}/ ECR repositories and mirror every selected NVCF artifact into them. false plans and runs nothing."
  type        = bool
  default     = false
}

variable "cluster_name" {
  description = "EKS cluster name; the default repository prefix."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]+(?:[._-][a-z0-9]+)*$", var.cluster_name))
    error_message = "cluster_name must be lower case letters, digits and . _ - (it becomes an ECR repository prefix)."
  }
}

variable "aws_region" {
  description = "AWS region of the ECR registry."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+$", var.aws_region))
    error_message = "aws_region must be an AWS region name such as us-east-1."
  }
}

variable "repository_prefix" {
  description = "Prefix of the mirrored repositories (global.image.repository in the NVCF Helmfile environment). Default: cluster_name."
  type        = string
  default     = null

  validation {
    condition     = var.repository_prefix == null || can(regex("^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$", var.repository_prefix))
    error_message = "repository_prefix must be a valid repository path: lower case, digits, . _ - and /."
  }
}

variable "manifest_path" {
  description = "Artifact manifest to mirror. Default: the NVCF v0.5 list bundled with nvcf-mirror."
  type        = string
  default     = null
}

variable "release" {
  description = "A bundled NVCF release's manifest to mirror: v0.5, v0.6.0, v0.6.1 or v1.0 (as --release). Null: v0.5, or manifest_path. Switching releases keeps the repositories of the one before (see the README, Releases)."
  type        = string
  default     = null

  validation {
    condition     = var.release == null || contains(["v0.5", "v0.6.0", "v0.6.1", "v1.0"], coalesce(var.release, "v0.5"))
    error_message = "release must be one of v0.5, v0.6.0, v0.6.1, v1.0 (the releases bundled with nvcf-mirror: nvcf-mirror manifest show)."
  }
}

variable "groups" {
  description = "Manifest groups to mirror. Empty: the default groups of the manifest or release; for v0.5 (infrastructure, control-plane, gpu-workload, reference-architecture, low-latency-streaming), for v0.6 and later each stack's Required rows: `nvcf-mirror manifest show --release NAME` lists them."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for g in var.groups : can(regex("^[a-z0-9]+(-[a-z0-9]+)*$", g))])
    error_message = "Group names are slugs such as control-plane."
  }
}

variable "exclude" {
  description = "Artifact names (a manifest entry's name, e.g. nvcf-openbao) left out of the selection; a name the manifest does not list fails the plan."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for n in var.exclude : can(regex("^[a-z0-9][a-z0-9._/-]*$", n))])
    error_message = "exclude lists artifact names (lower case, digits, . _ - /)."
  }
}

variable "platforms" {
  description = "Platforms to mirror (OS/ARCH[/VARIANT]); [\"all\"] copies whole multi-arch indexes."
  type        = list(string)
  default     = ["linux/amd64"]

  validation {
    condition     = length(var.platforms) > 0 && alltrue([for p in var.platforms : p == "all" || can(regex("^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$", p))])
    error_message = "platforms must be OS/ARCH[/VARIANT] values such as linux/amd64, or [\"all\"]."
  }
}

variable "scan_on_push" {
  description = "ECR image scanning on push for repositories this module creates."
  type        = bool
  default     = true
}

variable "image_tag_mutability" {
  description = "Tag mutability of repositories this module creates."
  type        = string
  default     = "MUTABLE"

  validation {
    condition     = contains(["MUTABLE", "IMMUTABLE"], var.image_tag_mutability)
    error_message = "image_tag_mutability must be MUTABLE or IMMUTABLE."
  }
}

variable "encryption_type" {
  description = "Encryption of repositories this module creates: AES256 or KMS (with kms_key)."
  type        = string
  default     = "AES256"

  validation {
    condition     = contains(["AES256", "KMS"], var.encryption_type)
    error_message = "encryption_type must be AES256 or KMS."
  }
}

variable "kms_key" {
  description = "KMS key ARN when encryption_type is KMS."
  type        = string
  default     = null
}

variable "repository_tags" {
  description = "Resource tags on repositories this module creates."
  type        = map(string)
  default     = {}
}

variable "lifecycle_policy_file" {
  description = "Path of a JSON ECR lifecycle policy applied to repositories this module creates."
  type        = string
  default     = null
}

variable "delete_repositories_on_destroy" {
  description = "force_delete on the module's repositories: terraform destroy deletes them with their images. False: destroy stops at a repository that holds images, as ECR does."
  type        = bool
  default     = false
}

variable "python" {
  description = "Python interpreter that has the nvcf-mirror package (provider_helper) installed."
  type        = string
  default     = "python3"
}

variable "source_registry" {
  description = "Replace nvcr.io in every source: a pull-through mirror or proxy in front of NGC. Empty: nvcr.io."
  type        = string
  default     = ""
}

variable "source_map" {
  description = "Read an upstream registry or a classic Helm repository's host through a mirror: { \"docker.io\" = \"mirror.internal:5000\" }, as --source-map UPSTREAM=MIRROR (MIRROR: HOST[:PORT][/PREFIX]). nvcr.io here and source_registry exclude each other."
  type        = map(string)
  default     = {}

  validation {
    condition = alltrue([for upstream, mirror in var.source_map :
      can(regex("^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$", upstream)) &&
    can(regex("^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?(/[a-z0-9]+([._-]+[a-z0-9]+)*)*$", mirror))])
    error_message = "source_map maps upstream hosts (docker.io, ghcr.io, helm.ngc.nvidia.com) to mirrors, HOST[:PORT][/PREFIX]."
  }
}

variable "target_registry" {
  description = "Registry host to push to. Empty: the caller's ECR registry in aws_region ({account}.dkr.ecr.{region}.amazonaws.com)."
  type        = string
  default     = ""
}

variable "insecure_registries" {
  description = "Registry hosts reached over plain HTTP / without TLS verification (loopback hosts always are)."
  type        = list(string)
  default     = []
}

variable "ca_file" {
  description = "PEM file of a private CA that signs a source's or the target's TLS certificate (a proxy, a Harbor), trusted besides the public roots. Null: public roots only."
  type        = string
  default     = null
}

variable "set_versions" {
  description = "Pin artifacts by name: { nvcf-base = \"0.1.5\" }, as --set-version NAME=VERSION."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for name, version in var.set_versions : can(regex("^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9_][A-Za-z0-9_.+-]*)?$", name)) && can(regex("^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}$", version))])
    error_message = "set_versions maps artifact names (NAME, or NAME:TAG for one entry of a name listed twice) to versions (letters, digits, . _ + -)."
  }
}

variable "copy_signatures" {
  description = "Copy each image's cosign signatures, attestations and SBOMs (sha256-<digest>.sig/.att/.sbom tags) and OCI 1.1 referrers along with it, so admission policies that verify signatures pass at the mirror."
  type        = bool
  default     = true
}

variable "pull_principals" {
  description = "IAM principals (ARNs, e.g. node roles of other accounts) granted pull on the module's repositories through a repository policy. Empty: no repository policy."
  type        = list(string)
  default     = []
}

variable "prune_superseded" {
  description = "After a copy in which nothing failed, remove the tags the selection no longer lists (superseded versions) from the module's repositories, with their signatures and referrers (nvcf-mirror prune --yes). Never another repository, never a digest a kept tag points at."
  type        = bool
  default     = false
}
