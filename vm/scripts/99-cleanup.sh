#!/bin/sh -eux
# Make the box small: build leftovers and package caches are not needed by students.
rm -rf /var/tmp/tracelab-src /var/tmp/mdb_v8 /var/tmp/node-v*.tar.xz /var/tmp/tracelab-verify
rm -rf /root/.npm /export/home/vagrant/.npm
pkg purge-history
# Host keys stay: the Vagrantfile gives each machine its own on first boot
# (every student's box from one image would otherwise share them).
