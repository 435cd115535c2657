# The embedded default: mirror into a local ECR stand-in (moto server as the ECR API and a local
# registry as its data plane), as the README demo does. Point the variables at your own stand-ins.
#
# The provider reaches moto through AWS_ENDPOINT_URL_ECR and AWS_ENDPOINT_URL_STS in the environment
# (as the AWS SDKs and the copier do), not an endpoints block: provider 5.100 spends about 3 s of CPU
# validating that block at each of its starts (issue 39 measured a no-op plan at 18.2 s with it,
# 9.9 s without).

provider "aws" {
  region                      = var.aws_region
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}

module "nvcf_mirror" {
  source = "../../terraform/modules/nvcf-mirror"

  create_sm_ecr_repos = var.create_sm_ecr_repos
  cluster_name        = var.cluster_name
  aws_region          = var.aws_region
  manifest_path       = var.manifest_path
  groups              = var.groups
  platforms           = var.platforms
  python              = var.python
  source_registry     = var.source_registry
  target_registry     = var.target_registry
}
