"""HTTPS to the platform: the certificate is verified (system store, or ``ca_file``)."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess

import pytest
from fakeplatform import SERVER, STORE, FakePlatform
from shopkeep_agent.client import ApiError, PlatformClient

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


OPENSSL = shutil.which("openssl") or "openssl"


def _openssl(*args: str, cwd) -> None:
    subprocess.run([OPENSSL, *args], cwd=cwd, check=True, capture_output=True,  # noqa: S603
                   timeout=60)


@pytest.fixture
def tls_platform(tmp_path):
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
             "ca.pem", "-subj", "/CN=shopkeep test CA", "-days", "2", cwd=tmp_path)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out",
             "server.csr", "-subj", "/CN=127.0.0.1", cwd=tmp_path)
    (tmp_path / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\n"
                                      "authorityKeyIdentifier=keyid\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf",
             cwd=tmp_path)
    platform = FakePlatform()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "server.pem", tmp_path / "server.key")
    platform.httpd.socket = context.wrap_socket(platform.httpd.socket, server_side=True)
    platform.start()
    yield platform, str(tmp_path / "ca.pem")
    platform.stop()


def _client(platform, ca_file):
    url = platform.url.replace("http://", "https://")
    return PlatformClient(url=url, store_secret=STORE, server_secret=SERVER,
                          instance_id="ska-tls", ca_file=ca_file)


def test_a_certificate_from_the_configured_ca_is_accepted(tls_platform):
    platform, ca_file = tls_platform
    platform.queue("say hi")
    pending = asyncio.run(_client(platform, ca_file).pending())
    assert [c["command"] for c in pending.commands] == ["say hi"]


def test_an_unknown_certificate_is_refused_before_any_secret_is_sent(tls_platform):
    platform, _ = tls_platform
    with pytest.raises(ApiError) as info:
        asyncio.run(_client(platform, None).pending())
    assert info.value.status == 0 and "CERTIFICATE_VERIFY_FAILED" in str(info.value)
    assert platform.requests == []  # the handshake failed: no headers reached the server
