#!/usr/bin/env bash
# Debian packages the test suite drives as real software, and the build's compiler (nothing here is needed to
# run the agent):
#   kamailio, sip-tester   the Kamailio + SIPp end-to-end test (tests/e2e/test_kamailio_sipp.py)
#   logrotate              the rotation chaos test (tests/pipeline/test_logrotate_chaos.py)
#   strace, systemd        the unit checks: systemd-analyze security, the agent traced against the syscall filter
#   slapd, ldap-utils      the directory enrichment tests (a private OpenLDAP per test module)
#   python3-venv           the .deb's virtualenv, made by /usr/bin/python3 (tests/test_packaging.py)
#   gcc, python3-dev       the C compiler and the system Python's headers: the install compiles the hot path
#                          with mypyc (setup.py), for the test environment and for the .deb
#   rsyslog, rsyslog-gnutls a real relay forwarding to the syslog input over TCP and TLS
#                          (tests/pipeline/test_syslog_forwarders.py; its own foreground instance)
# Installs what is missing (as root, through apt-get); the tests start their own instances on
# 127.0.0.1 with their own configuration and ports, so a packaged service left running does not matter.
set -euo pipefail

# command -> Debian package
declare -A NEEDED=([gcc]=gcc [kamailio]=kamailio [sipp]=sip-tester [logrotate]=logrotate [strace]=strace [systemd-analyze]=systemd [slapd]=slapd [ldapadd]=ldap-utils [rsyslogd]=rsyslog)

missing=()
for cmd in "${!NEEDED[@]}"; do
    if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ]; then
        missing+=("${NEEDED[$cmd]}")
    fi
done
# packaging/build-deb.sh makes the package's virtualenv with the system's Python: venv and ensurepip
if ! /usr/bin/python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    missing+=(python3-venv)
fi
if [ ! -e "$(/usr/bin/python3 -c 'import sysconfig; print(sysconfig.get_paths()["include"])')/Python.h" ]; then
    missing+=(python3-dev)
fi
# rsyslog's TLS driver is a module of its own package: no command to look for
if ! compgen -G "/usr/lib/*/rsyslog/lmnsd_gtls.so" >/dev/null; then
    missing+=(rsyslog-gnutls)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "system-packages: missing ${missing[*]}; run as root: apt-get install ${missing[*]}" >&2
    exit 1
fi
echo "system-packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d 101: do not start the packaged services (we run our own instances)
policy=/usr/sbin/policy-rc.d
created_policy=
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" && created_policy=1
fi
trap '[ -n "$created_policy" ] && rm -f "$policy"' EXIT
apt-get update -qq || echo "system-packages: apt-get update failed; trying the cached lists" >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
