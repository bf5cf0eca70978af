"""Certificates made in the test for the syslog TLS listeners, and RFC 5424 / RFC 5425 framing of sample lines.

    certs = make_certs(tmp_path / "tls")
    certs.server_chain, certs.server_key        # for DNS:localhost and IP:127.0.0.1, signed by certs.ca
    certs.client_chain, certs.client_key        # clientAuth, signed by certs.ca (a sender allowed by mutual TLS)
    certs.rogue_chain, certs.rogue_key          # clientAuth, signed by an unrelated CA (a sender refused)

Keys are EC P-256, PKCS#8, mode 0600 (the agent's rules for secret files). `to_rfc5424` turns a line as a
syslog daemon files it (`STAMP HOST TAG[PID]: MSG`) into the RFC 5424 message an appliance would send, so
that the agent, which files RFC 5424 as `STAMP HOST APP[PROCID]: MSG`, gives the parser the same line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Certs:
    ca: Path  # the CA that signed the server and the allowed client (client_ca_file, and what senders trust)
    server_chain: Path  # leaf + CA
    server_key: Path
    client_chain: Path
    client_key: Path
    rogue_chain: Path  # a client certificate signed by an unrelated CA
    rogue_key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ucsiem syslog tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                         encipher_only=False, decipher_only=False)


def _builder(subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey) -> x509.CertificateBuilder:
    now = datetime.now(UTC)
    return (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(issuer).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=7))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))


def _ca(common_name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (_builder(_name(common_name), _name(common_name), key)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_usage(ca=True), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def _leaf(folder: Path, stem: str, ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate, *,
          server: bool) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (_builder(_name(f"ucsiem syslog {stem}"), ca_cert.subject, key)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(_usage(ca=False), critical=True)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if server
                                                     else ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False))
    names: list[x509.GeneralName] = ([x509.DNSName("localhost"), x509.IPAddress(IPv4Address(HOST))] if server
                                     else [x509.DNSName(f"{stem}.example")])
    cert = builder.add_extension(x509.SubjectAlternativeName(names), critical=False).sign(ca_key, hashes.SHA256())
    chain = folder / f"{stem}.pem"
    chain.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + ca_cert.public_bytes(serialization.Encoding.PEM))
    key_path = folder / f"{stem}-key.pem"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return chain, key_path


def make_certs(folder: Path) -> Certs:
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = _ca("ucsiem syslog test CA")
    rogue_ca_key, rogue_ca_cert = _ca("ucsiem unrelated CA")
    (folder / "ca.pem").write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    server = _leaf(folder, "server", ca_key, ca_cert, server=True)
    client = _leaf(folder, "client", ca_key, ca_cert, server=False)
    rogue = _leaf(folder, "rogue", rogue_ca_key, rogue_ca_cert, server=False)
    return Certs(ca=folder / "ca.pem", server_chain=server[0], server_key=server[1], client_chain=client[0],
                 client_key=client[1], rogue_chain=rogue[0], rogue_key=rogue[1])


# `2024-05-14T09:15:02.118+02:00 expc01 tvcs: MSG`, `... httpd[2871]: MSG`, or no tag: `... expc01 MSG`
_FILED = re.compile(r"(?P<stamp>\S+) (?P<host>\S+) (?:(?P<app>[^\s\[\]:=]+)(?:\[(?P<pid>\d+)\])?: )?(?P<msg>.*)")


def to_rfc5424(line: str, pri: int = 134) -> bytes:
    """The RFC 5424 message whose filed form is `line` (an ISO-stamped line of a daemon's file)."""
    m = _FILED.fullmatch(line)
    assert m is not None, line
    return (f"<{pri}>1 {m['stamp']} {m['host']} {m['app'] or '-'} {m['pid'] or '-'} - - {m['msg']}").encode()


def octet_counted(messages: list[bytes]) -> bytes:
    """RFC 5425 / RFC 6587 octet counting: `MSG-LEN SP SYSLOG-MSG`, no trailer."""
    return b"".join(b"%d %s" % (len(m), m) for m in messages)
