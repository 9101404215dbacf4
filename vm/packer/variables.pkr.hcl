# Inputs of the build. Pinned values live in versions.auto.pkrvars.hcl; the
# rest have defaults for a laptop-sized build machine.

variable "omnios_iso_url" { type = string }
variable "omnios_iso_checksum" { type = string }
variable "node6_version" { type = string }
variable "node6_url" { type = string }
variable "node6_sha256" { type = string }
variable "mdb_v8_repo" { type = string }
variable "mdb_v8_commit" { type = string }
variable "restify_version" { type = string }
variable "dtrace_provider_version" { type = string }
variable "stackvis_version" { type = string }
variable "checker_node_pkg" { type = string }

variable "box_name" {
  type    = string
  default = "tracelab-illumos"
}

variable "cpus" {
  type    = number
  default = 2
}

variable "memory_mb" {
  type    = number
  default = 4096
}

variable "disk_mb" {
  type    = number
  default = 20480
}

variable "headless" {
  type    = bool
  default = true
}

# What Packer logs in as while provisioning; the Kayak config (http/kayak.cfg)
# creates this user. Vagrant replaces the password with a key on first `vagrant up`.
variable "ssh_username" {
  type    = string
  default = "vagrant"
}

variable "ssh_password" {
  type      = string
  default   = "vagrant"
  sensitive = true
}
