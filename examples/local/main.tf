# The embedded default: mirror into a local ECR stand-in (moto server as the ECR API and a local
# registry as its data plane), as the README demo does. Point the variables at your own stand-ins.

provider "aws" {
  region                      = var.aws_region
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  endpoints {
    ecr = var.aws_endpoint
    sts = var.aws_endpoint
  }
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
