"""The TLS client context of every output: the one place trust and name checks are decided."""

from __future__ import annotations

import ssl

from ucsiem.config_common import TlsConfig


def tls_context(tls: TlsConfig | None) -> ssl.SSLContext:
    """Only tls.ca_file when given (else the system store), TLS 1.2 or later, names checked (the IP SANs for an
    IP host); Kafka and https:// Elasticsearch nodes alike."""
    tls = tls or TlsConfig()
    # create_default_context loads the system roots only when no cafile is given: ca_file replaces them.
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH,
                                         cafile=str(tls.ca_file) if tls.ca_file is not None else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.verify_mode = ssl.CERT_REQUIRED
    context.check_hostname = tls.check_hostname  # for an IP host, OpenSSL checks the certificate's IP SANs
    if tls.cert_file is not None:
        context.load_cert_chain(str(tls.cert_file), str(tls.key_file) if tls.key_file is not None else None)
    return context
