#!/bin/sh
# The operating system's LDAP client (nslcd, with libnss-ldapd and
# libpam-ldapd) pointed at a test's dirproxyd, without touching this
# machine's own logins: run inside a private mount namespace,
#
#   unshare --mount --propagation private --fork --kill-child -- \
#       sh nslcd_namespace.sh DIR
#
# it puts DIR's nsswitch.conf, nslcd.conf and pam.d over the system's
# (bind mounts: the files outside stay as they are), a tmpfs over /run (so
# /run/nslcd is new and empty, the system nslcd's socket and nscd's are out
# of sight), writes its pid to DIR/nslcd.pid and becomes `nslcd -d`. The
# namespace lives as long as nslcd does: programs run in it with
# `nsenter --target PID --mount`, and when nslcd ends every mount is gone.
set -eu

dir=$1
for file in nsswitch.conf nslcd.conf pam.d; do
  if [ ! -e "$dir/$file" ]; then
    echo "nslcd_namespace: $dir/$file is missing" >&2
    exit 2
  fi
done
# A bind mount needs its target to exist: nslcd's package installs
# /etc/nslcd.conf; the others are part of any system.
for target in /etc/nsswitch.conf /etc/nslcd.conf /etc/pam.d; do
  if [ ! -e "$target" ]; then
    echo "nslcd_namespace: $target does not exist (is nslcd installed?)" >&2
    exit 2
  fi
done

# Mounts made here propagate nowhere (unshare --propagation private), but be
# sure before changing anything.
if [ "$(readlink /proc/self/ns/mnt)" = "$(readlink /proc/1/ns/mnt)" ]; then
  echo "nslcd_namespace: not in a private mount namespace; refusing to mount" >&2
  exit 2
fi

mount --bind "$dir/nsswitch.conf" /etc/nsswitch.conf
mount --bind "$dir/nslcd.conf" /etc/nslcd.conf
mount --bind "$dir/pam.d" /etc/pam.d
mount -t tmpfs -o mode=0755 dirproxy-test-run /run
mkdir -m 0755 /run/nslcd
chown nslcd:nslcd /run/nslcd

echo $$ >"$dir/nslcd.pid"
exec nslcd -d
