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
  description = "Python interpreter with nvcf-mirror installed, e.g. $PWD/.venv/bin/python (see README); python3 must have it otherwise."
  type        = string
  default     = "python3"
}

variable "source_registry" {
  description = "Replace nvcr.io in every source: a pull-through mirror or proxy in front of NGC. Empty: nvcr.io."
  type        = string
  default     = ""
}

variable "manifest_path" {
  description = "Artifact manifest to mirror. Null: the NVCF v0.5 list bundled with nvcf-mirror."
  type        = string
  default     = null
}

variable "ca_file" {
  description = "PEM file of a private CA that signs the registry's (or a proxy's) TLS certificate. Null: public roots only."
  type        = string
  default     = null
}

variable "insecure_registries" {
  description = "Registry hosts reached over plain HTTP / without TLS verification (loopback hosts always are)."
  type        = list(string)
  default     = []
}

variable "set_versions" {
  description = "Pin artifacts by name: { nvcf-base = \"0.1.5\" }, or \"latest\" for the newest of the pinned tag's flavour."
  type        = map(string)
  default     = {}
}

variable "copy_signatures" {
  description = "Copy cosign signatures, attestations, SBOMs and OCI referrers along with each image."
  type        = bool
  default     = true
}
