# Two builders from the same installer ISO: qemu (KVM; the libvirt box) and
# VirtualBox. Both boot the OmniOS ISO, break into the loader prompt and point
# the Kayak installer at http/kayak.cfg, served by Packer, for an unattended
# install (ZFS root pool, DHCP, the vagrant user), then reboot into the disk.

locals {
  # Loader keystrokes: option 7 of the OmniOS boot menu is the loader prompt.
  boot_command = [
    "7<wait5>",
    "set kayak_config=http://{{ .HTTPIP }}:{{ .HTTPPort }}/kayak.cfg<enter><wait>",
    "boot<enter>",
  ]
  shutdown_command = "echo '${var.ssh_password}' | sudo -S /usr/sbin/shutdown -y -g0 -i5"
}

source "qemu" "omnios" {
  iso_url          = var.omnios_iso_url
  iso_checksum     = var.omnios_iso_checksum
  accelerator      = "kvm"
  cpus             = var.cpus
  memory           = var.memory_mb
  disk_size        = var.disk_mb
  disk_interface   = "virtio"
  net_device       = "virtio-net"
  format           = "qcow2"
  headless         = var.headless
  http_directory   = "${path.root}/http"
  boot_wait        = "10s"
  boot_command     = local.boot_command
  communicator     = "ssh"
  ssh_username     = var.ssh_username
  ssh_password     = var.ssh_password
  ssh_timeout      = "45m"
  shutdown_command = local.shutdown_command
  output_directory = "output-${var.box_name}-qemu"
  vm_name          = "${var.box_name}.qcow2"
}

source "virtualbox-iso" "omnios" {
  iso_url              = var.omnios_iso_url
  iso_checksum         = var.omnios_iso_checksum
  guest_os_type        = "OpenSolaris_64"
  cpus                 = var.cpus
  memory               = var.memory_mb
  disk_size            = var.disk_mb
  hard_drive_interface = "sata"
  headless             = var.headless
  http_directory       = "${path.root}/http"
  boot_wait            = "10s"
  boot_command         = local.boot_command
  guest_additions_mode = "disable"
  communicator         = "ssh"
  ssh_username         = var.ssh_username
  ssh_password         = var.ssh_password
  ssh_timeout          = "45m"
  shutdown_command     = local.shutdown_command
  output_directory     = "output-${var.box_name}-virtualbox"
  vm_name              = var.box_name
}
