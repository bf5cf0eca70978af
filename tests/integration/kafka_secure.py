# mypy: disable-error-code="import-untyped"
# (aiokafka ships no type information; this comment stays silent if the project later ignores it globally.)
"""A private, single-node Apache Kafka (KRaft) with a SASL_SSL listener, for integration tests.

    with secure_kafka(tmp_path) as kafka:
        producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, security_protocol="SASL_SSL",
                                    sasl_mechanism="SCRAM-SHA-512", sasl_plain_username=kafka.username,
                                    sasl_plain_password=kafka.password, ssl_context=kafka.ssl_context())

The broker is a second one, beside the shared broker of ``scripts/services.sh`` (which it leaves alone): it runs
from the jars that script fetches into its cache, on free loopback ports, with everything (certificates,
configuration, data, log) in the given folder.

* TLS: a throwaway CA signs the broker's certificate (``localhost``, SAN DNS:localhost and IP:127.0.0.1) and a
  client certificate; the broker *requests* (does not require) a client certificate, so clients may use mutual TLS.
  A second, unrelated CA (``other_ca_file``) makes clients that distrust the broker.
* SASL: PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512, all with the one user ``username`` / ``password``
  (SCRAM credentials are written at storage format time, PLAIN users come from the listener's JAAS config).
* The controller and the inter-broker traffic use two PLAINTEXT listeners on loopback.

The JVM runs in its own session and gets SIGKILL when the thread that started it ends (PR_SET_PDEATHSIG), so a
killed test run leaves no broker behind; leaving the context stops it (SIGTERM, SIGKILL after 20 s).
"""

from __future__ import annotations

import asyncio
import base64
import ctypes
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

from aiokafka import AIOKafkaProducer
from aiokafka.helpers import create_ssl_context
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

KAFKA_VERSION = "4.4.0"
ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
USERNAME = "ucsiem"
HEAP = "384m"
READY_TIMEOUT = 120.0  # seconds for the broker to accept a SCRAM-SHA-512 produce request
STOP_TIMEOUT = 20.0  # seconds between SIGTERM and SIGKILL
FORMAT_TIMEOUT = 120.0
READY_TOPIC = "secure-kafka-ready"
PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class SecureKafka:
    bootstrap: str  # "127.0.0.1:PORT" of the SASL_SSL listener
    ca_file: Path  # CA that signed the server cert
    other_ca_file: Path  # an unrelated CA
    client_cert_file: Path  # signed by ca_file; the broker requests (not requires) client certificates
    client_key_file: Path
    username: str
    password: str

    def ssl_context(self, *, cafile: Path | None = None, client_cert: bool = False) -> ssl.SSLContext:
        """A client context that trusts ``cafile`` (default: ``ca_file``), with the client certificate if asked."""
        context: ssl.SSLContext
        if client_cert:
            context = create_ssl_context(cafile=str(cafile or self.ca_file), certfile=str(self.client_cert_file),
                                         keyfile=str(self.client_key_file))
        else:
            context = create_ssl_context(cafile=str(cafile or self.ca_file))
        return context


# ---------------------------------------------------------------- certificates

@dataclass(frozen=True)
class _Certs:
    ca: Path
    other_ca: Path
    server_keystore: Path  # unencrypted PKCS#8 key, server certificate, CA
    client_cert: Path
    client_key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ucsiem tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                         encipher_only=False, decipher_only=False)


def cert_builder(subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey) -> x509.CertificateBuilder:
    now = datetime.now(UTC)
    return (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(issuer).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=7))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))


def _make_ca(common_name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (cert_builder(_name(common_name), _name(common_name), key)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(ca=True), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def _make_leaf(common_name: str, ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate, *,
               server: bool) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (cert_builder(_name(common_name), ca_cert.subject, key)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(_key_usage(ca=False), critical=True)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if server
                                                     else ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False))
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(IPv4Address(HOST))]),
            critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    # Kafka reads PKCS#8 only ("BEGIN PRIVATE KEY"), not the "BEGIN EC/RSA PRIVATE KEY" forms.
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _write_private(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    path.chmod(0o600)
    return path


def make_certs(folder: Path) -> _Certs:
    """CA, other CA, server certificate for localhost/127.0.0.1 and a client certificate, all PEM, in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = _make_ca("ucsiem test CA")
    _, other_cert = _make_ca("ucsiem unrelated CA")
    server_key, server_cert = _make_leaf("localhost", ca_key, ca_cert, server=True)
    client_key, client_cert = _make_leaf(USERNAME, ca_key, ca_cert, server=False)
    (folder / "ca.pem").write_bytes(_pem(ca_cert))
    (folder / "other-ca.pem").write_bytes(_pem(other_cert))
    (folder / "client.pem").write_bytes(_pem(client_cert))
    keystore = _pem_key(server_key) + _pem(server_cert) + _pem(ca_cert)
    return _Certs(ca=folder / "ca.pem", other_ca=folder / "other-ca.pem",
                  server_keystore=_write_private(folder / "server-keystore.pem", keystore),
                  client_cert=folder / "client.pem",
                  client_key=_write_private(folder / "client-key.pem", _pem_key(client_key)))


# ---------------------------------------------------------------- Kafka and Java

def services_cache() -> Path:
    """The cache of scripts/services.sh (same rules as the script)."""
    if env := os.environ.get("UCSIEM_SERVICES_DIR"):
        return Path(env)
    if os.geteuid() == 0:
        return Path("/var/cache/ucsiem-services")
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ucsiem-services"


def kafka_lib() -> Path:
    """The folder of Kafka's jars, fetched by ``scripts/services.sh fetch kafka`` if missing."""
    lib = services_cache() / f"kafka-{KAFKA_VERSION}" / "lib"
    if not lib.is_dir():
        subprocess.run(["bash", str(ROOT / "scripts" / "services.sh"), "fetch", "kafka"], cwd=ROOT, check=True,
                       env={**os.environ, "UCSIEM_KAFKA_VERSION": KAFKA_VERSION}, timeout=1800)
    if not any(lib.glob("kafka_*.jar")):
        raise RuntimeError(f"no Kafka {KAFKA_VERSION} jars in {lib}")
    return lib


def _jdk_major(home: Path) -> int:
    try:
        match = re.search(r'^JAVA_VERSION="(\d+)', (home / "release").read_text(), re.MULTILINE)
    except OSError:
        return 0
    return int(match.group(1)) if match else 0


def find_java(minimum: int = 17) -> Path:
    """The ``java`` of a JDK >= ``minimum``: UCSIEM_KAFKA_JAVA_HOME, JAVA_HOME, java on PATH, /usr/lib/jvm/*."""
    candidates: list[Path] = []
    for var in ("UCSIEM_KAFKA_JAVA_HOME", "JAVA_HOME"):
        if value := os.environ.get(var):
            candidates.append(Path(value))
    if java := shutil.which("java"):
        candidates.append(Path(java).resolve().parent.parent)
    jvm = Path("/usr/lib/jvm")
    if jvm.is_dir():
        candidates.extend(sorted(jvm.iterdir()))
    for home in candidates:
        if (home / "bin" / "java").is_file() and _jdk_major(home) >= minimum:
            return home / "bin" / "java"
    raise RuntimeError(f"no JDK >= {minimum} among {[str(c) for c in candidates]}")


def free_ports(count: int) -> list[int]:
    """``count`` distinct loopback ports that were free a moment ago."""
    with ExitStack() as stack:
        socks = [stack.enter_context(closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)))
                 for _ in range(count)]
        for sock in socks:
            sock.bind((HOST, 0))
        return [int(sock.getsockname()[1]) for sock in socks]


def _java_string(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _server_properties(*, data: Path, certs: _Certs, port: int, controller_port: int, internal_port: int,
                       password: str) -> str:
    plain_jaas = (f'org.apache.kafka.common.security.plain.PlainLoginModule required '
                  f'user_{USERNAME}="{_java_string(password)}";')
    scram_jaas = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
    lines = [
        "process.roles=broker,controller",
        "node.id=1",
        f"controller.quorum.voters=1@{HOST}:{controller_port}",
        f"listeners=SASL_SSL://{HOST}:{port},CONTROLLER://{HOST}:{controller_port},INTERNAL://{HOST}:{internal_port}",
        f"advertised.listeners=SASL_SSL://{HOST}:{port},INTERNAL://{HOST}:{internal_port}",
        "listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT",
        "inter.broker.listener.name=INTERNAL",
        "controller.listener.names=CONTROLLER",
        # SASL on the client listener only.
        "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
        f"listener.name.sasl_ssl.plain.sasl.jaas.config={plain_jaas}",
        f"listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config={scram_jaas}",
        f"listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config={scram_jaas}",
        # TLS from PEM files: the key store is one file with the unencrypted PKCS#8 key, then the chain, and no
        # ssl.key.password (with a password Kafka parses the key as encrypted, and JDK 17 cannot decrypt the
        # PBES2 keys that `cryptography` writes: "PBES2 SecretKeyFactory not available").
        "listener.name.sasl_ssl.ssl.keystore.type=PEM",
        f"listener.name.sasl_ssl.ssl.keystore.location={certs.server_keystore}",
        "listener.name.sasl_ssl.ssl.truststore.type=PEM",
        f"listener.name.sasl_ssl.ssl.truststore.location={certs.ca}",
        # Only the listener-prefixed form reaches a SASL_SSL listener (a bare ssl.client.auth is for SSL ones).
        "listener.name.sasl_ssl.ssl.client.auth=requested",
        f"log.dirs={data}",
        "num.partitions=1",
        "default.replication.factor=1",
        "offsets.topic.replication.factor=1",
        "offsets.topic.num.partitions=1",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "transaction.state.log.num.partitions=1",
        "share.coordinator.state.topic.replication.factor=1",
        "share.coordinator.state.topic.min.isr=1",
        "auto.create.topics.enable=true",
        "group.initial.rebalance.delay.ms=0",
        "log.segment.bytes=16777216",
    ]
    return "\n".join(lines) + "\n"


LOG4J2 = """\
status = warn
name = ucsiem-secure-kafka
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.config.name = org.apache.kafka.common.config.AbstractConfig
logger.config.level = WARN
"""


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


def die_with_parent_preexec() -> Callable[[], None]:
    """A preexec_fn: the child gets SIGKILL when the thread that started it ends (Linux PR_SET_PDEATHSIG)."""
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()

    def preexec() -> None:
        libc.prctl(PR_SET_PDEATHSIG, ctypes.c_ulong(signal.SIGKILL), ctypes.c_ulong(0), ctypes.c_ulong(0),
                   ctypes.c_ulong(0))
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, SIGKILL after STOP_TIMEOUT s; then SIGKILL whatever is left in its process group."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    with suppress(ProcessLookupError, PermissionError):  # start_new_session: the JVM led its own group
        os.killpg(proc.pid, signal.SIGKILL)


# ---------------------------------------------------------------- readiness

def _port_open(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1):
            return True
    except OSError:
        return False


async def _produce_once(kafka: SecureKafka, timeout: float) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka.bootstrap, security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512",
        sasl_plain_username=kafka.username, sasl_plain_password=kafka.password,
        ssl_context=create_ssl_context(cafile=str(kafka.ca_file)), request_timeout_ms=int(timeout * 1000),
        retry_backoff_ms=200)
    try:
        async with asyncio.timeout(timeout):
            await producer.start()
            await producer.send_and_wait(READY_TOPIC, b"ready")
    finally:
        await producer.stop()


async def _wait_ready(kafka: SecureKafka, proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    last: BaseException | None = None
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the secure Kafka broker exited with {proc.returncode} during start-up; "
                               f"last lines of {log}:\n{log_tail(log)}")
        left = deadline - time.monotonic()
        if left <= 0:
            raise RuntimeError(f"the secure Kafka broker was not ready within {READY_TIMEOUT:.0f} s "
                               f"(last error: {last!r}); last lines of {log}:\n{log_tail(log)}")
        if _port_open(port):
            try:
                await _produce_once(kafka, min(left, 20.0))
                return
            except Exception as err:  # any failure means "not yet"
                last = err
        await asyncio.sleep(0.5)


# ---------------------------------------------------------------- the broker

@contextmanager
def secure_kafka(workdir: Path) -> Iterator[SecureKafka]:
    """Start a private SASL_SSL Kafka with its files in ``workdir``, wait until it takes a SCRAM-SHA-512
    produce request, yield its coordinates, and stop it (SIGTERM, then SIGKILL after 20 s).

    Raises RuntimeError, with the last 40 lines of the broker's log, if it does not get ready in 120 s.
    Call it from a thread without a running event loop (it runs its readiness probe with asyncio.run).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    lib, java = kafka_lib(), find_java()
    certs = make_certs(workdir / "certs")
    password = secrets.token_hex(16)  # plain characters: the --add-scram value is parsed, not quoted
    port, controller_port, internal_port = free_ports(3)
    data = workdir / "data"
    data.mkdir(exist_ok=True)
    config = workdir / "server.properties"
    config.write_text(_server_properties(data=data, certs=certs, port=port, controller_port=controller_port,
                                         internal_port=internal_port, password=password))
    config.chmod(0o600)
    log4j = workdir / "log4j2.properties"
    log4j.write_text(LOG4J2)
    log = workdir / "kafka.log"
    classpath = ["-cp", f"{lib}/*", f"-Dlog4j2.configurationFile={log4j}"]
    # URL-safe base64 of random bytes starts with '-' one time in 64: given as a separate argument, the tool's
    # parser took it for an option ("--cluster-id: expected one argument"); CI failed on it once
    cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()

    with log.open("ab") as out:
        formatted = subprocess.run(
            [str(java), "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", *classpath,
             "kafka.tools.StorageTool", "format", "--config", str(config), f"--cluster-id={cluster_id}",
             "--add-scram", f"SCRAM-SHA-256=[name={USERNAME},password={password}]",
             "--add-scram", f"SCRAM-SHA-512=[name={USERNAME},password={password}]"],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, timeout=FORMAT_TIMEOUT, check=False)
    if formatted.returncode != 0:
        raise RuntimeError(f"formatting the secure Kafka storage failed ({formatted.returncode}); "
                           f"last lines of {log}:\n{log_tail(log)}")

    kafka = SecureKafka(bootstrap=f"{HOST}:{port}", ca_file=certs.ca, other_ca_file=certs.other_ca,
                        client_cert_file=certs.client_cert, client_key_file=certs.client_key,
                        username=USERNAME, password=password)
    jvm = [f"-Xms{HEAP}", f"-Xmx{HEAP}", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true"]
    with log.open("ab") as out:
        proc = subprocess.Popen([str(java), *jvm, *classpath, "kafka.Kafka", str(config)],
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, cwd=workdir,
                                start_new_session=True, preexec_fn=die_with_parent_preexec())
    try:
        asyncio.run(_wait_ready(kafka, proc, port, log))
        yield kafka
    finally:
        stop_process(proc)
