# An nvcf-base-style root module: with create_sm_ecr_repos = true in terraform.tfvars,
# `terraform apply` creates the {cluster_name}/ ECR repositories, mirrors the NVCF artifacts
# from NGC, and outputs digest-pinned references for the Helmfile environment.
#
#   export NGC_API_KEY=nvapi-...        # never put it in a .tfvars file
#   aws sts get-caller-identity         # boto3's default chain must reach ECR
#   terraform init && terraform apply

provider "aws" {
  region = var.aws_region
}

module "nvcf_mirror" {
  source = "../../terraform/modules/nvcf-mirror"

  create_sm_ecr_repos            = var.create_sm_ecr_repos
  cluster_name                   = var.cluster_name
  aws_region                     = var.aws_region
  groups                         = var.nvcf_mirror_groups
  platforms                      = var.nvcf_mirror_platforms
  image_tag_mutability           = "MUTABLE"
  scan_on_push                   = true
  repository_tags                = { "nvcf/cluster" = var.cluster_name }
  delete_repositories_on_destroy = var.delete_ecr_repos_on_destroy
  python                         = var.nvcf_mirror_python
  set_versions                   = var.nvcf_mirror_set_versions
}
