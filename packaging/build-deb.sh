#!/usr/bin/env bash
# Build dist/ucsiem_<version>_<arch>.deb: a self-contained virtualenv in /opt/ucsiem, the systemd unit,
# the sysusers file and the default config (a conffile: upgrades keep local edits).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
version=$("$PY" -c 'import re;print(re.search(r"^version = \"(.+)\"", open("pyproject.toml").read(), re.M)[1])')
arch=$(dpkg --print-architecture)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
"$PY" -m venv "$root/opt/ucsiem"
"$root/opt/ucsiem/bin/pip" install -q --upgrade pip
"$root/opt/ucsiem/bin/pip" install -q .
# the venv must work from its final location: rewrite the build path in scripts
grep -rl "$root/opt/ucsiem" "$root/opt/ucsiem/bin" | xargs sed -i "s#$root/opt/ucsiem#/opt/ucsiem#g"
install -D -m 0644 packaging/ucsiem.service "$root/lib/systemd/system/ucsiem.service"
install -D -m 0644 packaging/ucsiem.sysusers.conf "$root/usr/lib/sysusers.d/ucsiem.conf"
install -D -m 0640 packaging/config.yml "$root/etc/ucsiem/config.yml"
install -D -m 0644 README.md "$root/usr/share/doc/ucsiem/README.md"
mkdir -p "$root/usr/bin" "$root/DEBIAN"
ln -s /opt/ucsiem/bin/ucsiem "$root/usr/bin/ucsiem"
cat > "$root/DEBIAN/control" <<CONTROL
Package: ucsiem
Version: $version
Architecture: $arch
Maintainer: ucsiem developers <dev@ucsiem.invalid>
Depends: python3 (>= 3.11), systemd
Section: admin
Priority: optional
Description: Security log agent for Unified Communications
 Tails UC logs (Cisco Expressway, AudioCodes SBC, ...), normalizes them to an
 ECS-aligned schema and ships them to a SIEM, with at-least-once delivery.
CONTROL
echo "/etc/ucsiem/config.yml" > "$root/DEBIAN/conffiles"
cat > "$root/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
systemd-sysusers ucsiem.conf || true
chgrp ucsiem /etc/ucsiem/config.yml || true
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl enable ucsiem.service >/dev/null || true
fi
POSTINST
cat > "$root/DEBIAN/prerm" <<'PRERM'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then systemctl stop ucsiem.service || true; fi
PRERM
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm"
mkdir -p dist
dpkg-deb --root-owner-group --build "$root" "dist/ucsiem_${version}_${arch}.deb"
