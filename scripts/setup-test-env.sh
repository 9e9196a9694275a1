#!/usr/bin/env bash
# Prepares a fresh Debian 12 machine for `npm test`: the system tools the tests drive as real
# components (the CNCF distribution registry, skopeo, podman, debootstrap, dpkg, xz, zstd,
# openssl, htpasswd, rpm and rpmbuild, Debian's chromium for the browser tests, PostgreSQL for the
# fleet tests: they initdb their own cluster in a temporary directory), the npm dependencies from the lockfile, and the test images built from
# Debian packages (cached under ~/.cache/distrolens-testimages, about two minutes the first time).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(docker-registry skopeo podman debootstrap umoci busybox-static apache2-utils xz-utils zstd openssl tar gzip rpm binutils chromium fonts-dejavu-core postgresql strace util-linux coreutils)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The Debian package starts nothing here (no systemd), and the tests start their own registries
# on 127.0.0.1 with random ports; make sure no packaged instance holds port 5000 on all interfaces.
if command -v systemctl >/dev/null && systemctl is-active --quiet docker-registry 2>/dev/null; then
  systemctl stop docker-registry || true
fi
# Nor is the packaged PostgreSQL cluster used: the tests run their own on a random loopback port.

npm ci --no-audit --no-fund
npm run build
node dist/test/fixtures/build-debian-images.js slim static base multiarch node jre >/dev/null
