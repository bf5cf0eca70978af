#!/usr/bin/env bash
# Build dist/ucsiem_<version>_<arch>.deb: a self-contained virtualenv in /opt/ucsiem, the systemd unit,
# the sysusers file and the default config (a conffile: upgrades keep local edits). Compressed with gzip:
# xz took 1.5 min of a 2 min build.
#
# The virtualenv is made by the system interpreter (/usr/bin/python3.X, the one python3 names), whatever
# PATH says: a pyenv or conda python under root's home would leave a venv the ucsiem user cannot even
# start. The package depends on that exact python3.X package. UCSIEM_DEB_OUT: the output folder (dist).
# Dependency wheels are kept in a wheelhouse (UCSIEM_DEB_WHEELS, ~/.cache/ucsiem-deb-wheels): a rebuild with
# the same dependencies installs offline from it; what is missing is downloaded into it first.
set -euo pipefail
umask 022  # the package's files and DEBIAN/ get their modes from here, not from whoever runs the script
cd "$(dirname "$0")/.."
out=${UCSIEM_DEB_OUT:-dist}
if [ ! -x /usr/bin/python3 ]; then
    echo "build-deb: /usr/bin/python3 is missing: apt-get install python3 python3-venv" >&2
    exit 2
fi
pyver=$(/usr/bin/python3 -c 'import sys; print("python%d.%d" % sys.version_info[:2])')
PY=/usr/bin/$pyver
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "build-deb: ucsiem needs Python >= 3.11; the system's is $("$PY" --version)" >&2
    exit 2
fi
if ! "$PY" -c 'import ensurepip, venv' 2>/dev/null; then
    echo "build-deb: $PY cannot make a virtualenv: apt-get install python3-venv (scripts/system-packages.sh)" >&2
    exit 2
fi
version=$("$PY" -c 'import re;print(re.search(r"^version = \"(.+)\"", open("pyproject.toml").read(), re.M)[1])')
arch=$(dpkg --print-architecture)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
venv="$root/opt/ucsiem"
"$PY" -m venv "$venv"
wheels=${UCSIEM_DEB_WHEELS:-${XDG_CACHE_HOME:-$HOME/.cache}/ucsiem-deb-wheels}
mkdir -p "$wheels" "$root/wheel"
"$venv/bin/python" -m pip wheel -q --no-deps --find-links "$wheels" -w "$root/wheel" .
wheel=$(echo "$root"/wheel/ucsiem-*.whl)
# no .pyc yet: they would name the build folder; compiled below with their final paths
if ! "$venv/bin/python" -m pip install -q --no-compile --no-index --find-links "$wheels" "$wheel" 2>/dev/null; then
    # pip download saves ucsiem's own wheel in the wheelhouse too, and takes a wheel of that name found there
    # for this one: an earlier build's, with its older dependencies. Only the dependencies are kept.
    rm -f "$wheels"/ucsiem-*.whl
    "$venv/bin/python" -m pip download -q -d "$wheels" "$wheel"
    rm -f "$wheels"/ucsiem-*.whl
    "$venv/bin/python" -m pip install -q --no-compile --no-index --find-links "$wheels" "$wheel"
fi
rm -rf "$root/wheel"
# direct_url.json would name the wheel's build path (a record of how it was installed; optional)
for info in "$venv"/lib/python3*/site-packages/ucsiem-*.dist-info; do
    rm -f "$info/direct_url.json" && sed -i '/direct_url\.json/d' "$info/RECORD"
done
# the venv must work from its final location: rewrite the build path in scripts and pyvenv.cfg
grep -rlI --exclude-dir=__pycache__ "$venv" "$venv" | xargs -r sed -i "s#$venv#/opt/ucsiem#g"
if left=$(grep -rlI "$root" "$venv"); then
    echo "build-deb: the build folder is still named in: $left" >&2
    exit 1
fi
find "$venv" -name __pycache__ -type d -prune -exec rm -rf {} +
"$venv/bin/python" -m compileall -q -j 0 -s "$root" -p / "$venv/lib"
target=$(readlink -f "$venv/bin/python")
if [ "$target" != "$PY" ]; then
    echo "build-deb: the venv's python is $target, not $PY" >&2
    exit 1
fi
chmod -R u+rwX,go+rX,go-w "$root"
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
Depends: $pyver, systemd
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
if [ "$1" = configure ]; then
    systemd-sysusers ucsiem.conf
    chgrp ucsiem /etc/ucsiem/config.yml
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload
        systemctl enable ucsiem.service >/dev/null || true
    fi
fi
POSTINST
cat > "$root/DEBIAN/prerm" <<'PRERM'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
    systemctl stop ucsiem.service || true
    if [ "$1" = remove ]; then systemctl disable ucsiem.service >/dev/null 2>&1 || true; fi
fi
PRERM
# purge: the agent's state (read positions, spool), its output folder and the ucsiem user and group go too;
# files an administrator added under /etc/ucsiem (keys, parsers) stay, as dpkg leaves them
cat > "$root/DEBIAN/postrm" <<'POSTRM'
#!/bin/sh
set -e
if [ "$1" = remove ] || [ "$1" = purge ]; then
    rm -rf /opt/ucsiem
    if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
fi
if [ "$1" = purge ]; then
    rm -rf /var/lib/ucsiem /var/log/ucsiem
    if getent passwd ucsiem >/dev/null; then userdel ucsiem; fi
    if getent group ucsiem >/dev/null; then groupdel ucsiem; fi
fi
POSTRM
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"
mkdir -p "$out"
dpkg-deb --root-owner-group -Zgzip --build "$root" "$out/ucsiem_${version}_${arch}.deb"
