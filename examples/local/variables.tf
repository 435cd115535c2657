variable "create_sm_ecr_repos" {
  description = "Create the repositories and mirror."
  type        = bool
  default     = true
}

variable "cluster_name" {
  description = "Repository prefix."
  type        = string
  default     = "nvcf-local"
}

variable "aws_region" {
  description = "Region of the (local) ECR API."
  type        = string
  default     = "us-east-1"
}

variable "manifest_path" {
  description = "Artifact manifest; null for the bundled NVCF list."
  type        = string
  default     = null
}

variable "groups" {
  description = "Manifest groups; empty for the defaults."
  type        = list(string)
  default     = []
}

variable "platforms" {
  description = "Platforms to mirror."
  type        = list(string)
  default     = ["linux/amd64"]
}

variable "python" {
  description = "Interpreter with nvcf-mirror installed."
  type        = string
  default     = "python3"
}

variable "source_registry" {
  description = "Local nvcr.io stand-in, host:port."
  type        = string
}

variable "target_registry" {
  description = "Local ECR data-plane stand-in, host:port."
  type        = string
}
