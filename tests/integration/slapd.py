"""A private OpenLDAP ``slapd`` for the directory tests, made to look like Active Directory with Skype for Business.

    with running_slapd(tmp_path, users=10_500) as ldap:
        ... LdapSourceConfig(type="ldap", url=ldap.ldaps_url, bind_dn=ldap.reader_dn, base_dn=SUFFIX, ...) ...
        ldap.modify(ldif)  # ldapmodify as the rootdn
        ldap.stop(); ldap.start()  # same ports, same data

Everything lives in the given folder: slapd.conf (mdb backend; core, cosine, inetorgperson and nis schemas from
/etc/ldap/schema plus ``ldap/ucsiem-ad.schema`` for the AD and msRTCSIP attributes), the database, the
certificates and slapd's output. It listens on ``ldap://127.0.0.1:P`` (StartTLS offered) and
``ldaps://127.0.0.1:Q`` with a certificate from a private CA (tlsproxy.make_certs: SAN IP:127.0.0.1 only).

The directory: ``users`` inetOrgPerson + ucsiemADUser entries under ou=people (their attributes are
``user_attributes(i)``, so a test knows what each must map to), two groups, and three service accounts:
``reader`` and ``limited`` (read access, bind with a password) and the rootdn ``admin`` (writes).
Limits: 1000 entries per plain search (``sizelimit``, below the user count, as AD's MaxPageSize is), unlimited
through the Simple Paged Results control, except for ``limited``, whose paged searches stop at 100 entries
(``size.prtotal``): a size limit met half-way through paging. The rootdn is exempt from limits, so tests read
as ``reader`` or anonymously.

The data goes in with ``slapadd -q`` before start (10,000 entries in about a second, where ldapadd takes far
longer). slapd runs in the foreground (``-d 0``), in its own session, and gets SIGKILL if the thread that started
it ends (PR_SET_PDEATHSIG), so a killed test run leaves no slapd behind; stop() sends SIGTERM and waits.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.integration.kafka_secure import die_with_parent_preexec, free_ports, stop_process
from tests.integration.tlsproxy import Certs, ServerCert, make_certs

HOST = "127.0.0.1"
SLAPD = Path("/usr/sbin/slapd")
SLAPADD = Path("/usr/sbin/slapadd")
SCHEMA_DIR = Path("/etc/ldap/schema")
MODULE_DIR = Path("/usr/lib/ldap")
CUSTOM_SCHEMA = Path(__file__).resolve().parent / "ldap" / "ucsiem-ad.schema"
INSTALL_HINT = "install Debian's slapd and ldap-utils: run scripts/system-packages.sh as root"

SUFFIX = "dc=example,dc=com"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
SERVICES = f"ou=services,{SUFFIX}"
ROOT_DN = f"cn=admin,{SUFFIX}"
READER_DN = f"cn=reader,{SERVICES}"
LIMITED_DN = f"cn=limited,{SERVICES}"
ALL_USERS_GROUP = f"cn=UC Users,{GROUPS}"
ADMINS_GROUP = f"cn=UC Admins,{GROUPS}"
SIZE_LIMIT = 1000  # plain searches
LIMITED_PAGED_TOTAL = 100  # paged searches of LIMITED_DN
READY_TIMEOUT = 20.0
PR_SET_PDEATHSIG = 1
GUID_NAMESPACE = uuid.UUID("6f1d0c55-8a53-4d8e-9a38-7d2b3f7e1c01")

DEPARTMENTS = ("Sales", "Support", "Engineering", "Finance")
TITLES = ("Agent", "Engineer", "Manager", "Analyst", "Director")
CITIES = ("Berlin", "Hamburg", "New York")


# ---------------------------------------------------------------- the directory's content

def user_dn(i: int) -> str:
    return f"uid={user_name(i)},{PEOPLE}"


def user_name(i: int) -> str:
    return f"user{i:05d}"


def user_guid(i: int) -> uuid.UUID | None:
    """Even users carry an AD objectGUID (stored as AD does: the UUID's bytes in little-endian field order)."""
    return uuid.uuid5(GUID_NAMESPACE, user_name(i)) if i % 2 == 0 else None


def user_attributes(i: int) -> dict[str, list[str | bytes]]:
    """The entry of user ``i``, attribute -> values, as loaded (objectClass and the RDN included)."""
    name = user_name(i)
    # Desk numbers in the forms directories really hold: international, national, North American.
    desk = (f"+49 30 {1000000 + i}", f"030 {1000000 + i}", f"+1 (212) 555-{i % 10000:04d}")[i % 3]
    attrs: dict[str, list[str | bytes]] = {
        "objectClass": ["top", "person", "organizationalPerson", "inetOrgPerson", "ucsiemADUser"],
        "uid": [name],
        "sAMAccountName": [name],  # the same as uid: the mapped name must hold it once
        "cn": [f"User {i}"],
        "sn": [f"Surname{i}"],
        "givenName": [f"Given{i}"],
        "displayName": ["Jürgen Ünal-Łukasiewicz" if i == 0 else f"Given{i} Surname{i}"],
        "mail": [f"{name}@example.com"],
        "telephoneNumber": [desk],
        "mobile": [f"+49 170 {2000000 + i}"],
        "ipPhone": [str(1000 + i)],
        "msRTCSIP-PrimaryUserAddress": [f"sip:{name}@example.com"],
        "msRTCSIP-Line": [f"tel:+4930{5000000 + i};ext={1000 + i}"],
        "department": [DEPARTMENTS[i % len(DEPARTMENTS)]],
        "title": [TITLES[i % len(TITLES)]],
        "l": [CITIES[i % len(CITIES)]],
        "memberOf": [ALL_USERS_GROUP, *([ADMINS_GROUP] if i % 50 == 0 else [])],
    }
    if i % 10:
        attrs["manager"] = [user_dn(i - i % 10)]
    if i % 7 == 0:
        attrs["otherTelephone"] = [f"+49 30 {3000000 + i}", f"+49 30 {4000000 + i}"]
    if (guid := user_guid(i)) is not None:
        attrs["objectGUID"] = [guid.bytes_le]
    if i == 1:
        attrs["jpegPhoto"] = [b"\xff\xd8\xff\xe0\x00\x10JFIF"]  # binary that is not a GUID
    return attrs


def _ldif_line(attr: str, value: str | bytes) -> str:
    raw = value.encode() if isinstance(value, str) else value
    safe = (isinstance(value, str) and value.isascii() and value.isprintable() and value == value.strip()
            and not value.startswith((":", "<")))
    return f"{attr}: {raw.decode()}" if safe else f"{attr}:: {base64.b64encode(raw).decode()}"


def entry_ldif(dn: str, attrs: dict[str, list[str | bytes]]) -> str:
    lines = [_ldif_line("dn", dn)]
    lines += [_ldif_line(attr, value) for attr, values in attrs.items() for value in values]
    return "\n".join(lines) + "\n\n"


def ssha(password: str) -> str:
    """An {SSHA} userPassword / rootpw value (what slappasswd makes)."""
    salt = secrets.token_bytes(8)
    return "{SSHA}" + base64.b64encode(hashlib.sha1(password.encode() + salt).digest() + salt).decode()


def directory_ldif(users: int, passwords: dict[str, str]) -> Iterator[str]:
    yield entry_ldif(SUFFIX, {"objectClass": ["top", "dcObject", "organization"], "dc": ["example"],
                              "o": ["Example"]})
    for ou in ("people", "groups", "services"):
        yield entry_ldif(f"ou={ou},{SUFFIX}", {"objectClass": ["organizationalUnit"], "ou": [ou]})
    for dn, password in passwords.items():
        yield entry_ldif(dn, {"objectClass": ["organizationalRole", "simpleSecurityObject"],
                              "cn": [dn.split(",", 1)[0].removeprefix("cn=")], "userPassword": [ssha(password)]})
    for group, members in ((ALL_USERS_GROUP, range(users)), (ADMINS_GROUP, range(0, users, 50))):
        yield entry_ldif(group, {"objectClass": ["groupOfNames"], "cn": [group.split(",", 1)[0][3:]],
                                 "member": [user_dn(i) for i in members] or [ROOT_DN]})
    for i in range(users):
        yield entry_ldif(user_dn(i), user_attributes(i))


# ---------------------------------------------------------------- slapd

def slapd_conf(folder: Path, certs: Certs, cert: ServerCert, root_password: str) -> str:
    schemas = [SCHEMA_DIR / f"{name}.schema" for name in ("core", "cosine", "inetorgperson", "nis")]
    return "\n".join([
        *(f"include {schema}" for schema in (*schemas, CUSTOM_SCHEMA)),
        f"pidfile {folder / 'slapd.pid'}",
        f"argsfile {folder / 'slapd.args'}",
        f"modulepath {MODULE_DIR}",
        "moduleload back_mdb",
        f"TLSCACertificateFile {certs.ca}",
        f"TLSCertificateFile {cert.chain}",
        f"TLSCertificateKeyFile {cert.key}",
        f"sizelimit {SIZE_LIMIT}",
        "database mdb",
        "maxsize 1073741824",
        f'suffix "{SUFFIX}"',
        f'rootdn "{ROOT_DN}"',
        f"rootpw {ssha(root_password)}",
        f"directory {folder / 'data'}",
        "index objectClass eq",
        # First match wins. size.prtotal is the total a paged search may return (default: the hard limit).
        f'limits dn.exact="{LIMITED_DN}" size.soft={SIZE_LIMIT} size.hard={SIZE_LIMIT} '
        f"size.prtotal={LIMITED_PAGED_TOTAL}",
        f"limits * size.soft={SIZE_LIMIT} size.hard={SIZE_LIMIT} size.prtotal=unlimited",
        "access to attrs=userPassword by anonymous auth by * none",
        "access to * by * read",
    ]) + "\n"


def require_tools() -> None:
    """AssertionError pointing to scripts/system-packages.sh when slapd or ldap-utils is missing (never a skip)."""
    missing = [str(tool) for tool in (SLAPD, SLAPADD) if not tool.is_file()]
    missing += [tool for tool in ("ldapmodify", "ldapsearch", "ldapwhoami") if shutil.which(tool) is None]
    assert not missing, f"missing {', '.join(missing)}: {INSTALL_HINT}"


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no output in {path})"


@dataclass
class Slapd:
    folder: Path
    ldap_port: int
    ldaps_port: int
    certs: Certs
    root_password: str
    reader_password: str
    limited_password: str
    users: int
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    root_dn = ROOT_DN
    reader_dn = READER_DN
    limited_dn = LIMITED_DN

    @property
    def ldap_url(self) -> str:
        return f"ldap://{HOST}:{self.ldap_port}"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://{HOST}:{self.ldaps_port}"

    @property
    def log(self) -> Path:
        return self.folder / "slapd.log"

    def secret_file(self, name: str, password: str) -> Path:
        """``password`` in a 0600 file of the folder (what password_file points to)."""
        path = self.folder / name
        path.write_text(password)
        path.chmod(0o600)
        return path

    def start(self) -> None:
        urls = f"{self.ldap_url}/ {self.ldaps_url}/"
        with self.log.open("ab") as out:
            self._proc = subprocess.Popen(
                [str(SLAPD), "-f", str(self.folder / "slapd.conf"), "-h", urls, "-d", "0"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, cwd=self.folder,
                start_new_session=True, preexec_fn=die_with_parent_preexec())
        self._wait_ready()

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if self._proc.poll() is not None:
                raise RuntimeError(f"slapd exited with {self._proc.returncode} during start-up; "
                                   f"last lines of {self.log}:\n{_tail(self.log)}")
            who = subprocess.run(["ldapwhoami", "-x", "-H", self.ldap_url, "-o", "nettimeout=2"],
                                 capture_output=True, timeout=10, check=False)
            if who.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"slapd did not answer within {READY_TIMEOUT:.0f} s "
                                   f"({who.stderr.decode(errors='replace').strip()}); "
                                   f"last lines of {self.log}:\n{_tail(self.log)}")
            time.sleep(0.1)

    def stop(self) -> None:
        """SIGTERM and wait (then SIGKILL), as for the private Kafka brokers."""
        proc, self._proc = self._proc, None
        if proc is not None:
            stop_process(proc)  # slapd runs in a session of its own (start_new_session): its group goes too

    def modify(self, ldif: str) -> None:
        """Apply an LDIF change record with ldapmodify, bound as the rootdn."""
        password_file = self.secret_file("root-password", self.root_password)
        subprocess.run(["ldapmodify", "-x", "-H", self.ldap_url, "-D", ROOT_DN, "-y", str(password_file)],
                       input=ldif.encode(), capture_output=True, timeout=30, check=True)


@contextmanager
def running_slapd(folder: Path, *, users: int, cert: str = "ip") -> Iterator[Slapd]:
    """Make, load and start a private slapd in ``folder``; stop it on leaving.

    ``cert`` picks the server certificate from tlsproxy.make_certs: "ip" (SAN IP:127.0.0.1, right for the URLs)
    or "wrong_name" (SAN DNS:wrong.example only, same CA).
    """
    require_tools()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data").mkdir()
    certs = make_certs(folder / "certs")
    ldap_port, ldaps_port = free_ports(2)
    server = Slapd(folder=folder, ldap_port=ldap_port, ldaps_port=ldaps_port, certs=certs,
                   root_password=secrets.token_urlsafe(16), reader_password=secrets.token_urlsafe(16),
                   limited_password=secrets.token_urlsafe(16), users=users)
    conf = folder / "slapd.conf"
    conf.write_text(slapd_conf(folder, certs, getattr(certs, cert), server.root_password))
    conf.chmod(0o600)
    ldif = folder / "directory.ldif"
    with ldif.open("w", encoding="utf-8") as out:
        out.writelines(directory_ldif(users, {READER_DN: server.reader_password,
                                              LIMITED_DN: server.limited_password}))
    loaded = subprocess.run([str(SLAPADD), "-q", "-f", str(conf), "-l", str(ldif)], capture_output=True,
                            timeout=300, check=False)
    if loaded.returncode != 0:
        raise RuntimeError(f"slapadd failed ({loaded.returncode}): {loaded.stderr.decode(errors='replace')}")
    server.start()
    try:
        yield server
    finally:
        server.stop()
