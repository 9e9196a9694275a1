#!/usr/bin/env bash
# Copies the real upstream fixtures the tests read from a checkout of the shared data
# (default ../shared/realdata) into test/realdata, and the official JSON Schemas into
# test/vendor/schemas, so that a clean clone of this repository alone runs every test.
# test/realdata/README.md says where each file comes from and under which licence.
# Alpine's legacy secdb (no licence stated upstream) is not copied: test/realdata holds an
# excerpt of its facts (package, fixed version, CVE ids) for the Alpine 3.9 packages only.
set -euo pipefail
cd "$(dirname "$0")/.."
src="${1:-../shared/realdata}"
dest=test/realdata
files=(
  images/alpine/gliderlabs-library-3.9-x86_64/rootfs.tar.xz
  images/alpine/docker-alpine-3.9.6-x86_64/alpine-minirootfs-3.9.6-x86_64.tar.gz
  images/alpine/docker-alpine-3.20.3-x86_64/alpine-minirootfs-3.20.3-x86_64.tar.gz
  images/dive/test-docker-image.tar
  images/dive/test-kaniko-image.tar
  images/go-containerregistry/hello-world-v25.tar
  images/go-containerregistry/test_link.tar
  images/snyk-docker-plugin/busybox-1.31.1.tar
  images/snyk-docker-plugin/hello-world.tar
  images/trivy/alpine-39.tar.gz
  images/trivy/golden/alpine-39.json.golden
  images/trivy/trivy-db-fixture/alpine.yaml
  apkindex/apko-alpine-316-x86_64/APKINDEX.tar.gz
  apkindex/wolfictl-wolfi-dag-x86_64/APKINDEX.tar.gz
  apkindex/wolfictl-wolfi-plain/APKINDEX
  osv/alpine/ALPINE-CVE-2025-26519.json
  osv/debian/DLA-3008-1.json
  osv/debian/DLA-3012-1.json
  osv/debian/DLA-3022-1.json
  osv/debian/DLA-3051-1.json
  osv/npm/GHSA-35jh-r3h4-6jhm.json
  osv/npm/GHSA-whgm-jr23-g3j9.json
  pkgdb/apk/alpine-3.16-apko/installed
  pkgdb/apk/snyk-alpine-2.6.6/analyzer-expect.json
  pkgdb/apk/snyk-alpine-2.6.6/installed
  pkgdb/apk/snyk-alpine-3.7.0/installed
  pkgdb/apk/wolfi-apko/wolfi-base.installed
  pkgdb/dpkg/trivy-ubuntu-18.04/expected-package-ids.txt
  pkgdb/dpkg/trivy-ubuntu-18.04/status
  pkgdb/go-binary/trivy/expected.json
  pkgdb/go-binary/trivy/test.elf
  pkgdb/java/trivy/expected.json
  pkgdb/java/trivy/io.quarkus.gizmo.gizmo-1.1.jar
  pkgdb/java/trivy/maven.war
  pkgdb/rpm/cbl-mariner-2.0/rpmdb.sqlite
  pkgdb/rpm/libuuid-rhel8/Packages
)
for f in "${files[@]}"; do
  mkdir -p "$dest/$(dirname "$f")"
  cp "$src/$f" "$dest/$f"
done
# Kubernetes' own Pod Security Standards golden fixtures (Apache-2.0), the newest two versions.
mkdir -p "$dest/k8s"
cp -r "$src/k8s/pod-security-admission" "$dest/k8s/"
mkdir -p "$dest/pkgdb/python/trivy"
cp "$src"/pkgdb/python/trivy/* "$dest/pkgdb/python/trivy/"
mkdir -p test/vendor/schemas
for f in sarif-schema-2.1.0.json bom-1.6.schema.json spdx.schema.json jsf-0.82.schema.json spdx-schema.json schema.json; do
  cp "$src/../schemas/$f" test/vendor/schemas/
done
# The secdb excerpt: the packages (by origin) of the Alpine 3.9 images above.
node scripts/secdb-excerpt.mjs "$src/osv/alpine-secdb-legacy/v3.9/main.yaml" \
  musl busybox alpine-baselayout alpine-keys openssl ca-certificates libtls-standalone zlib apk-tools pax-utils libc-dev \
  > "$dest/osv/alpine-secdb-legacy/v3.9/main.yaml.tmp"
mkdir -p "$dest/osv/alpine-secdb-legacy/v3.9"
mv "$dest/osv/alpine-secdb-legacy/v3.9/main.yaml.tmp" "$dest/osv/alpine-secdb-legacy/v3.9/main.yaml"
# The end-of-life table distrolens ships (data/eol/README.md): endoflife.date's product files (MIT).
for f in alpine-linux debian nodejs python ubuntu; do
  cp "$src/eol/$f.md" data/eol/
done
