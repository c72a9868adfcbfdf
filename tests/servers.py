"""Real servers for database tests: PgBouncer in transaction mode, and a PostgreSQL with TLS and passwords.

PgBouncer stands in for RDS Proxy: it multiplexes transactions over server sessions and, with its default
`ignore_startup_parameters` (none), refuses a startup packet carrying `options`, as RDS Proxy does.
The TLS server is the embedded PostgreSQL binaries started on 127.0.0.1 with `ssl=on`, a certificate from
a throwaway CA naming only `localhost`, and scram-sha-256 passwords over TCP.
"""

from __future__ import annotations

import datetime
import os
import pwd
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

PGBOUNCER_PLACES = ("/usr/sbin/pgbouncer", "/usr/local/sbin/pgbouncer", "/usr/local/bin/pgbouncer")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def pgbouncer_binary() -> str | None:
    """PgBouncer on PATH, or where Debian puts it (/usr/sbin, often not on a user's PATH)."""
    found = shutil.which("pgbouncer")
    if found:
        return found
    return next((place for place in PGBOUNCER_PLACES if os.access(place, os.X_OK)), None)


def _service_user() -> str | None:
    """PgBouncer and PostgreSQL refuse to run as root: as root, run them as the embedded server's user."""
    if os.geteuid() != 0:
        return None
    for name in ("embedded_postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root, and no unprivileged user to run the database servers as")


def _hand_over(path: Path, user: str | None) -> None:
    if user is not None:
        for item in [path, *path.rglob("*")]:
            shutil.chown(item, user, user)


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {log.read_text() if log.exists() else ''}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"server did not listen on {port} within {timeout_s}s")


def with_address(url: str, host: str, port: int, **params: str) -> str:
    """The same connection string aimed at another host and port (user, password and database kept)."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    info.update({"host": host, "port": str(port), **params})
    return psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in info.items() if v is not None})


class PgBouncer:
    """PgBouncer with `pool_mode = transaction` in front of the server at `server_url`, on a free port.

    With `tls`, clients must use TLS and PgBouncer presents a certificate naming only `localhost`, signed by
    a throwaway CA (`certificates.ca`); RDS Proxy too terminates TLS with a certificate of its own.
    With `passwords`, clients authenticate with scram-sha-256 against the roles' passwords stored in
    PostgreSQL (read through `auth_query`), so `ALTER ROLE … PASSWORD` on the server is what a client
    must match, as with a rotated secret.
    """

    def __init__(
        self,
        binary: str,
        server_url: str,
        tls: bool = False,
        passwords: bool = False,
        pool_size: int = 10,
    ) -> None:
        self.binary = binary
        self.pool_size = pool_size
        self.server = psycopg.conninfo.conninfo_to_dict(server_url)
        self.passwords = passwords
        self.port = free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="reckoning-pgbouncer-"))
        self.certificates = make_certificates(self.workdir) if tls else None
        self._process: subprocess.Popen[bytes] | None = None

    def _config(self) -> str:
        user = str(self.server.get("user") or "postgres")
        target = f"host={self.server.get('host') or 'localhost'} port={self.server.get('port') or 5432}"
        lines = [
            "[databases]",
            f"* = {target}",  # any database name goes to that server: per-test databases need no entry
            "[pgbouncer]",
            "listen_addr = 127.0.0.1",
            f"listen_port = {self.port}",
            "unix_socket_dir =",
            "pool_mode = transaction",
            f"auth_file = {self.workdir / 'users.txt'}",
            "max_client_conn = 500",
            f"default_pool_size = {self.pool_size}",
            f"logfile = {self.workdir / 'pgbouncer.log'}",
            f"pidfile = {self.workdir / 'pgbouncer.pid'}",
        ]
        if self.passwords:
            lines += ["auth_type = scram-sha-256", f"auth_user = {user}"]
        else:
            lines += ["auth_type = trust"]
        if self.certificates is not None:
            lines += [
                "client_tls_sslmode = require",
                f"client_tls_cert_file = {self.certificates.cert}",
                f"client_tls_key_file = {self.certificates.key}",
            ]
        return "\n".join(lines) + "\n"

    def start(self) -> PgBouncer:
        user = str(self.server.get("user") or "postgres")
        password = str(self.server.get("password") or "")
        (self.workdir / "pgbouncer.ini").write_text(self._config())
        (self.workdir / "users.txt").write_text(f'"{user}" "{password}"\n')
        service_user = _service_user()
        self.workdir.chmod(0o755)
        _hand_over(self.workdir, service_user)
        command = [self.binary, *(["-u", service_user] if service_user else []), str(self.workdir / "pgbouncer.ini")]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
        _wait_for_port(self.port, self._process, self.workdir / "pgbouncer.log")
        return self

    def url(self, direct_url: str, host: str = "127.0.0.1", **params: str) -> str:
        """`direct_url` (a database on the server behind this PgBouncer) reached through PgBouncer."""
        return with_address(direct_url, host, self.port, **params)

    def log(self) -> str:
        path = self.workdir / "pgbouncer.log"
        return path.read_text() if path.exists() else ""

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None
        shutil.rmtree(self.workdir, ignore_errors=True)


@dataclass(frozen=True)
class Certificates:
    ca: Path  # the CA that signed the server certificate
    other_ca: Path  # a CA that signed nothing here
    cert: Path
    key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _ca(common_name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_certificates(directory: Path, host_name: str = "localhost") -> Certificates:
    """A throwaway CA, a server certificate it signs naming only `host_name`, and an unrelated CA."""
    ca_key, ca_cert = _ca("Reckoning test CA")
    _, other_cert = _ca("Some other CA")
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(host_name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host_name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    paths = Certificates(
        directory / "ca.crt", directory / "other-ca.crt", directory / "server.crt", directory / "server.key"
    )
    paths.ca.write_bytes(ca_cert.public_bytes(pem))
    paths.other_ca.write_bytes(other_cert.public_bytes(pem))
    paths.cert.write_bytes(cert.public_bytes(pem))
    paths.key.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )
    paths.key.chmod(0o600)
    return paths


_SSL_REQUEST, _GSSENC_REQUEST = 80877103, 80877104


class StartupRecorder:
    """A socket speaking just enough of the PostgreSQL protocol to record what a client's startup packet
    carries, then refusing it. It declines TLS, as a server without it does, so clients send their packet."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.05)  # so that the loop sees the stop flag
        self.port: int = self._socket.getsockname()[1]
        self.startups: list[dict[str, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> StartupRecorder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._socket.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._socket.accept()
            except TimeoutError:
                continue
            conn.settimeout(1.0)
            with conn:
                try:
                    self._one(conn)
                except OSError:  # a client that gave up half-way
                    continue

    def _one(self, conn: socket.socket) -> None:
        while True:
            header = _read_exactly(conn, 8)
            if header is None:
                return
            length, code = struct.unpack("!ii", header)
            body = _read_exactly(conn, length - 8) or b""
            if code in (_SSL_REQUEST, _GSSENC_REQUEST):
                conn.sendall(b"N")
                continue
            fields = body.split(b"\0")
            self.startups.append({k.decode(): v.decode() for k, v in zip(fields[0:-2:2], fields[1:-2:2], strict=True)})
            message = b"SFATAL\0C28000\0Mrecorded and refused\0\0"
            conn.sendall(b"E" + struct.pack("!i", len(message) + 4) + message)
            return


def _read_exactly(conn: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data
