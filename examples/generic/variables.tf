variable "registry" {
  description = "Registry host, e.g. harbor.example.com or cr-example-cn-beijing.cr.volces.com."
  type        = string
}

variable "repository_prefix" {
  description = "Project / namespace the artifacts land under (global.image.repository)."
  type        = string
  default     = "nvcf-self-hosted"
}

variable "groups" {
  description = "Artifact groups; empty for the manifest's defaults."
  type        = list(string)
  default     = []
}

variable "platforms" {
  description = "Platforms to mirror."
  type        = list(string)
  default     = ["linux/amd64"]
}

variable "python" {
  description = "Python interpreter with nvcf-mirror installed."
  type        = string
  default     = "python3"
}
