"""TLS material of the secured broker: a private CA and a broker certificate for 127.0.0.1, made with openssl.

Made once under ``.local`` and reused, so clients keep trusting the same CA file across restarts; made
again when any piece is missing. The broker reads a PKCS12 keystore and a truststore (keytool), because
it is its own client on the inter-broker listener (transaction markers go to itself).
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from localinfra.credentials import write_private
from localinfra.errors import InfraError
from localinfra.tools import java, require


@dataclass(frozen=True)
class BrokerTls:
    directory: Path

    @property
    def ca_cert(self) -> Path:
        """The CA clients trust (``ssl.ca.location``)."""
        return self.directory / "ca.crt"

    @property
    def keystore(self) -> Path:
        return self.directory / "broker.p12"

    @property
    def truststore(self) -> Path:
        return self.directory / "truststore.p12"

    @property
    def password_file(self) -> Path:
        return self.directory / "store.password"

    def store_password(self) -> str:
        return self.password_file.read_text().strip()

    def complete(self) -> bool:
        return all(p.exists() for p in (self.ca_cert, self.keystore, self.truststore, self.password_file))


def _keytool() -> str:
    beside_java = Path(java()).parent / "keytool"
    if beside_java.exists():
        return str(beside_java)
    return require("keytool", "It comes with the JDK (Debian: apt-get install openjdk-17-jre-headless).")


def _run(cmd: list[str], cwd: Path) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    if proc.returncode != 0:
        raise InfraError(f"making the broker's TLS material failed ({Path(cmd[0]).name}):\n{proc.stderr[-2000:]}")


def ensure_broker_tls(directory: Path) -> BrokerTls:
    """The CA, the broker's keystore and truststore in ``directory``: kept when complete, else made anew."""
    tls = BrokerTls(directory)
    if tls.complete():
        return tls
    openssl = require("openssl", "Install it (Debian: apt-get install openssl).")
    keytool = _keytool()
    work = directory.with_name(directory.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(mode=0o700, parents=True)
    password = secrets.token_urlsafe(18)
    write_private(work / "store.password", password)
    days = "825"
    ca_extensions = ["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]
    steps = [
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", days,
         "-subj", "/CN=marketo-stream local CA", *ca_extensions, "-keyout", "ca.key", "-out", "ca.crt"],
        [openssl, "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
         "-keyout", "broker.key", "-out", "broker.csr"],
        [openssl, "x509", "-req", "-in", "broker.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
         "-days", days, "-extfile", "broker.ext", "-out", "broker.crt"],
        [openssl, "pkcs12", "-export", "-in", "broker.crt", "-inkey", "broker.key", "-certfile", "ca.crt",
         "-name", "broker", "-passout", "file:store.password", "-out", "broker.p12"],
        [keytool, "-importcert", "-noprompt", "-alias", "ca", "-file", "ca.crt", "-keystore", "truststore.p12",
         "-storetype", "PKCS12", "-storepass:file", "store.password"],
    ]  # fmt: skip
    (work / "broker.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n"
    )
    for cmd in steps:
        _run(cmd, work)
    for path in work.iterdir():
        path.chmod(0o644 if path.name == "ca.crt" else 0o600)
    shutil.rmtree(directory, ignore_errors=True)
    work.rename(directory)
    return tls
