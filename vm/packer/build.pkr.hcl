# The lab image: provisioning scripts in vm/scripts (the same ones the
# Vagrantfile runs on a plain OmniOS box), then a Vagrant box per provider.
#
# Build from the repository root after `npm run build` (dist/ is uploaded):
#   packer build vm/packer
#   packer build -only=qemu.omnios vm/packer        # the libvirt box only

locals {
  repo = "${path.root}/../.."
  script_env = [
    "NODE6_VERSION=${var.node6_version}",
    "NODE6_URL=${var.node6_url}",
    "NODE6_SHA256=${var.node6_sha256}",
    "MDB_V8_REPO=${var.mdb_v8_repo}",
    "MDB_V8_COMMIT=${var.mdb_v8_commit}",
    "RESTIFY_VERSION=${var.restify_version}",
    "DTRACE_PROVIDER_VERSION=${var.dtrace_provider_version}",
    "STACKVIS_VERSION=${var.stackvis_version}",
    "CHECKER_NODE_PKG=${var.checker_node_pkg}",
    "TRACELAB_SRC=/var/tmp/tracelab-src",
  ]
}

build {
  sources = ["source.qemu.omnios", "source.virtualbox-iso.omnios"]

  # tracelab itself: what `tracelab check` needs on the lab host.
  provisioner "shell" {
    inline = ["mkdir -p /var/tmp/tracelab-src"]
  }
  provisioner "file" {
    sources     = ["${local.repo}/package.json", "${local.repo}/bin", "${local.repo}/dist", "${local.repo}/labs", "${local.repo}/solutions", "${local.repo}/packages"]
    destination = "/var/tmp/tracelab-src/"
  }

  provisioner "shell" {
    execute_command  = "echo '${var.ssh_password}' | {{ .Vars }} sudo -S -E sh -eux '{{ .Path }}'"
    environment_vars = local.script_env
    scripts = [
      "${path.root}/../scripts/10-packages.sh",
      "${path.root}/../scripts/20-node6.sh",
      "${path.root}/../scripts/30-mdb-v8.sh",
      "${path.root}/../scripts/40-student.sh",
      "${path.root}/../scripts/50-tracelab.sh",
      "${path.root}/../scripts/60-lab-deps.sh",
      "${path.root}/../scripts/90-verify.sh",
      "${path.root}/../scripts/99-cleanup.sh",
    ]
  }

  post-processor "vagrant" {
    output               = "${var.box_name}-{{ .Provider }}.box"
    vagrantfile_template = "${path.root}/box.Vagrantfile"
  }
}
