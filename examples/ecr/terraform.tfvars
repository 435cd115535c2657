cluster_name        = "nvcf-self-hosted"
aws_region          = "us-east-1"
create_sm_ecr_repos = true
