"""A TLS-terminating TCP relay for the Elasticsearch TLS tests (threads), and its certificates.

    certs = make_certs(tmp_path)                    # private CA, unrelated CA, leaf certificates for chosen names
    with TlsProxy(("127.0.0.1", 19200), certs.wrong_name) as proxy:
        ... https://127.0.0.1:{proxy.port} ... proxy.handshake_errors ... proxy.received

It listens on a free 127.0.0.1 port, completes a TLS handshake with the server certificate it was given and
relays the decrypted bytes, unchanged, to the real node (plain HTTP) and back. It keeps what the clients sent
after decryption (`received`: request lines, headers with any credentials, bodies) and the reason of every
handshake that failed, so a test can tell whether a client trusted the certificate and what it disclosed.
Nothing of Elasticsearch is imitated: every answer is the node's own.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path
from types import TracebackType

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.integration.kafka_secure import cert_builder

HOST = "127.0.0.1"
CHUNK = 65536

# -- certificates -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerCert:
    chain: Path  # PEM: the leaf, then the CA that signed it
    key: Path  # PEM PKCS#8, mode 0600


@dataclass(frozen=True)
class Certs:
    ca: Path  # the private CA the agent is told to trust (tls.ca_file)
    other_ca: Path  # an unrelated CA
    ip: ServerCert  # signed by `ca` for IP:127.0.0.1: the right certificate for https://127.0.0.1:port
    wrong_name: ServerCert  # signed by `ca` for DNS:wrong.example only
    other_signer: ServerCert  # for IP:127.0.0.1, but signed by `other_ca`


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ucsiem tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _make_ca(common_name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    usage = x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                          encipher_only=False, decipher_only=False)
    cert = (cert_builder(_name(common_name), _name(common_name), key)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(usage, critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def _make_server(folder: Path, stem: str, names: list[x509.GeneralName], ca_key: ec.EllipticCurvePrivateKey,
                 ca_cert: x509.Certificate) -> ServerCert:
    key = ec.generate_private_key(ec.SECP256R1())
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    # The common name is never the host: modern clients read only the SANs, and so must this test.
    cert = (cert_builder(_name(f"ucsiem test server {stem}"), ca_cert.subject, key)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .sign(ca_key, hashes.SHA256()))
    chain = folder / f"{stem}.pem"
    chain.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + ca_cert.public_bytes(serialization.Encoding.PEM))
    key_path = folder / f"{stem}-key.pem"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return ServerCert(chain, key_path)


def make_certs(folder: Path) -> Certs:
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = _make_ca("ucsiem test CA")
    other_key, other_cert = _make_ca("ucsiem unrelated CA")
    (folder / "ca.pem").write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    (folder / "other-ca.pem").write_bytes(other_cert.public_bytes(serialization.Encoding.PEM))
    ip: list[x509.GeneralName] = [x509.IPAddress(IPv4Address(HOST))]
    return Certs(ca=folder / "ca.pem", other_ca=folder / "other-ca.pem",
                 ip=_make_server(folder, "ip", ip, ca_key, ca_cert),
                 wrong_name=_make_server(folder, "wrong-name", [x509.DNSName("wrong.example")], ca_key, ca_cert),
                 other_signer=_make_server(folder, "other-signer", ip, other_key, other_cert))


# -- the relay ----------------------------------------------------------------------------------------


class TlsProxy:
    """One thread accepts; each connection gets a thread that does the handshake itself (so that a refused
    certificate is seen and recorded here) and then relays both ways with select, one thread per
    connection so that no TLS object is ever used by two threads at once.

    (An asyncio server cannot be used: it reads the ClientHello into its plain stream buffer before the
    handler can call start_tls, and under load the handshake then waits for bytes it already has.)"""

    def __init__(self, upstream: tuple[str, int], cert: ServerCert) -> None:
        self.upstream = upstream
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(cert.chain, cert.key)
        self._listener = socket.create_server((HOST, 0))
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._received = bytearray()
        self._handshakes = 0
        self._handshake_errors: list[str] = []
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: set[socket.socket] = set()

    @property
    def url(self) -> str:
        return f"https://{HOST}:{self.port}"

    @property
    def received(self) -> bytes:
        """Everything clients sent after a completed handshake, decrypted."""
        with self._lock:
            return bytes(self._received)

    @property
    def handshakes(self) -> int:
        with self._lock:
            return self._handshakes

    @property
    def handshake_errors(self) -> list[str]:
        with self._lock:
            return list(self._handshake_errors)

    def __enter__(self) -> TlsProxy:
        self._start(self._accept)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stopping.set()
        self._listener.close()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in list(self._threads):
            thread.join(timeout=10)

    def _start(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, name="tlsproxy", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _track(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            self._sockets.add(sock)
        return sock

    def _accept(self) -> None:
        self._listener.settimeout(0.2)
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed by __exit__
            self._start(self._serve, self._track(conn))

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        try:
            tls = self.context.wrap_socket(conn, server_side=True)  # the handshake happens here
        except Exception as exc:  # an alert, a reset, a time-out: the client did not trust us
            with self._lock:
                self._handshake_errors.append(f"{type(exc).__name__}: {exc}")
            conn.close()
            return
        self._track(tls)
        with self._lock:
            self._handshakes += 1
        try:
            up = self._track(socket.create_connection(self.upstream, timeout=10))
        except OSError:
            tls.close()
            return
        try:
            self._relay(tls, up)
        finally:
            tls.close()
            up.close()

    def _relay(self, tls: ssl.SSLSocket, up: socket.socket) -> None:
        tls.settimeout(10)
        up.settimeout(10)
        while not self._stopping.is_set():
            ready = [tls] if tls.pending() else select.select([tls, up], [], [], 0.2)[0]
            for source in ready:
                try:
                    data = source.recv(CHUNK)
                except (OSError, ssl.SSLError):
                    return
                if not data:
                    return
                if source is tls:
                    with self._lock:
                        self._received += data
                    target: socket.socket = up
                else:
                    target = tls
                try:
                    target.sendall(data)
                except (OSError, ssl.SSLError):
                    return
