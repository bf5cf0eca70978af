"""A TLS-terminating TCP relay for the Elasticsearch TLS tests (asyncio, in a background thread), and its certificates.

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

import asyncio
import contextlib
import ssl
import threading
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
    def __init__(self, upstream: tuple[str, int], cert: ServerCert) -> None:
        self.upstream = upstream
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(cert.chain, cert.key)
        self.port = 0
        self._lock = threading.Lock()
        self._received = bytearray()
        self._handshakes = 0
        self._handshake_errors: list[str] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tlsproxy", daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

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
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(timeout=10)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._serve, HOST, 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        if self._server is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            try:  # the handshake happens here, on a plain connection, so that its failure can be recorded
                await asyncio.wait_for(writer.start_tls(self.context), 10)
            except Exception as exc:  # whatever ended it (an alert, a reset, EOF): the client did not trust us
                with self._lock:
                    self._handshake_errors.append(f"{type(exc).__name__}: {exc}")
                return
            with self._lock:
                self._handshakes += 1
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
            self._writers.add(up_writer)
            try:
                await asyncio.gather(self._pump(reader, up_writer, record=True), self._pump(up_reader, writer))
            finally:
                self._writers.discard(up_writer)
                up_writer.close()
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, *, record: bool = False) -> None:
        try:
            while data := await source.read(CHUNK):
                if record:
                    with self._lock:
                        self._received += data
                sink.write(data)
                await sink.drain()
        except (OSError, ssl.SSLError):
            pass
        finally:
            with contextlib.suppress(OSError, RuntimeError):
                if sink.can_write_eof():
                    sink.write_eof()
                else:
                    sink.close()
