variable "create_sm_ecr_repos" {
  description = "Create the {cluster_name}/ ECR repositories and mirror the NVCF artifacts into them."
  type        = bool
  default     = false
}

variable "cluster_name" {
  description = "EKS cluster name; also the ECR repository prefix."
  type        = string
}

variable "aws_region" {
  description = "AWS region of the cluster and its ECR registry."
  type        = string
}

variable "nvcf_mirror_groups" {
  description = "Artifact groups to mirror; empty for those automated mirroring includes."
  type        = list(string)
  default     = []
}

variable "nvcf_mirror_platforms" {
  description = "Node platforms; linux/arm64 for Graviton node groups."
  type        = list(string)
  default     = ["linux/amd64"]
}

variable "delete_ecr_repos_on_destroy" {
  description = "On terraform destroy, delete the module's repositories even when they hold images (force_delete)."
  type        = bool
  default     = false
}

variable "nvcf_mirror_python" {
  description = "Python interpreter with nvcf-mirror installed."
  type        = string
  default     = "python3"
}

variable "nvcf_mirror_set_versions" {
  description = "Pin artifacts by name, e.g. { nvcf-base = \"0.1.5\" }."
  type        = map(string)
  default     = {}
}
