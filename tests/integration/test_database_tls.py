"""TLS that verifies the server, and a rotated password read again, against PgBouncer as RDS Proxy's stand-in.

PgBouncer terminates TLS with a certificate naming only `localhost` from a throwaway CA, and checks each
client's scram-sha-256 password against the role's password stored in the real PostgreSQL behind it, as
RDS Proxy checks it against the database secret.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import boto3
import psycopg
import pytest
from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS
from psycopg import sql

from reckoning import config, db, errors
from reckoning.db.connection import Database
from tests.helpers import Env, invoke, submission
from tests.servers import PgBouncer, pgbouncer_binary


@dataclass(frozen=True)
class Role:
    name: str
    password: str


@pytest.fixture(scope="module")
def tls_proxy(server_url: str) -> Iterator[PgBouncer]:
    binary = pgbouncer_binary()
    if binary is None:
        pytest.skip("pgbouncer is not installed (apt-get install pgbouncer)")
    bouncer = PgBouncer(binary, server_url, tls=True, passwords=True).start()
    yield bouncer
    bouncer.stop()


@pytest.fixture
def role(server_url: str) -> Iterator[Role]:
    """A login role with a password, on the real server."""
    found = Role(f"app_{secrets.token_hex(4)}", secrets.token_urlsafe(16))
    with psycopg.connect(server_url, autocommit=True) as conn:
        statement = sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}")
        conn.execute(statement.format(sql.Identifier(found.name), sql.Literal(found.password)))
    yield found
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(found.name)))


def set_password(server_url: str, role: Role, password: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role.name), sql.Literal(password)))


@pytest.fixture
def url(tls_proxy: PgBouncer, role: Role, database_url: str) -> Callable[..., str]:
    """The test database through the TLS proxy, as `role`, at the host name given."""

    def make(host: str = "localhost", password: str = role.password) -> str:
        return tls_proxy.url(database_url, host=host, user=role.name, password=password)

    return make


def verified(tls_proxy: PgBouncer) -> dict[str, str]:
    assert tls_proxy.certificates is not None
    return {"sslmode": "verify-full", "sslrootcert": str(tls_proxy.certificates.ca)}


def connect(url: str, tls: dict[str, str]) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(psycopg.conninfo.make_conninfo(url, **tls))


def test_verify_full_connects_to_the_host_the_certificate_names(
    tls_proxy: PgBouncer, url: Callable[..., str], role: Role
) -> None:
    database = Database(url("localhost"), tls=verified(tls_proxy))
    with database.transaction() as conn:
        assert conn.pgconn.ssl_in_use
        assert conn.execute("SELECT current_user").fetchone() == {"current_user": role.name}
    database.close()


def test_a_host_name_the_certificate_does_not_name_is_refused(tls_proxy: PgBouncer, url: Callable[..., str]) -> None:
    with pytest.raises(psycopg.OperationalError, match=r'does not match host name "127\.0\.0\.1"'):
        connect(url("127.0.0.1"), verified(tls_proxy))
    with pytest.raises(errors.ServiceUnavailable), Database(url("127.0.0.1"), tls=verified(tls_proxy)).transaction():
        pass


def test_a_certificate_from_a_ca_we_do_not_trust_is_refused(tls_proxy: PgBouncer, url: Callable[..., str]) -> None:
    assert tls_proxy.certificates is not None
    other = {"sslmode": "verify-full", "sslrootcert": str(tls_proxy.certificates.other_ca)}
    with pytest.raises(psycopg.OperationalError, match="certificate verify failed"):
        connect(url(), other)


def test_the_proxy_refuses_a_connection_without_tls(url: Callable[..., str]) -> None:
    with pytest.raises(psycopg.OperationalError, match="SSL required"):
        psycopg.connect(url(), sslmode="disable")


def test_production_defaults_verify_against_the_bundle_the_artifact_ships(
    tls_proxy: PgBouncer, url: Callable[..., str], env: Env
) -> None:
    env(ENVIRONMENT="production", DATABASE_URL=url())
    db.reset_database()
    # certifi's public roots do not know the test CA: the default bundle is really used, and is no kinder.
    with pytest.raises(errors.ServiceUnavailable), db.database().transaction():
        pass
    env(DB_SSLROOTCERT=verified(tls_proxy)["sslrootcert"])
    db.reset_database()
    with db.database().transaction() as conn:
        assert conn.pgconn.ssl_in_use
    db.reset_database()


@pytest.fixture
def secret_reads(
    env: Env, tls_proxy: PgBouncer, role: Role, database_url: str, moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Callable[[str], None], list[bool]]]:
    """The database reached through an RDS-style secret in Secrets Manager (moto); yields a function that
    rotates the secret's password, and the `fresh` flag of every read of the secret."""
    client = boto3.client("secretsmanager", endpoint_url=moto_server, region_name="eu-west-1")
    info = psycopg.conninfo.conninfo_to_dict(database_url)

    def value(password: str) -> str:
        fields = {"username": role.name, "password": password, "host": "localhost", "port": tls_proxy.port}
        return json.dumps({**fields, "dbname": info["dbname"], "engine": "postgres"})

    arn = client.create_secret(Name=f"rds-{role.name}", SecretString=value(role.password))["ARN"]
    monkeypatch.delitem(DEFAULT_PROVIDERS, "secrets", raising=False)  # a provider (and cache) of this test's own
    tls = {f"DB_{name.upper()}": setting for name, setting in verified(tls_proxy).items()}
    env(DATABASE_URL=None, DATABASE_SECRET_ARN=arn, **tls)
    reads: list[bool] = []
    read = config._from_secrets_manager

    def counted(secret_arn: str, fresh: bool = False) -> str:
        reads.append(fresh)
        return read(secret_arn, fresh=fresh)

    monkeypatch.setattr(config, "_from_secrets_manager", counted)
    db.reset_database()

    def rotate(password: str) -> None:
        client.put_secret_value(SecretId=arn, SecretString=value(password))

    yield rotate, reads
    db.reset_database()


def test_a_rotated_password_is_read_again_once_and_the_next_transaction_succeeds(
    secret_reads: tuple[Callable[[str], None], list[bool]], role: Role, server_url: str
) -> None:
    rotate, reads = secret_reads
    with db.database().transaction() as conn:
        conn.execute("SELECT 1")
    assert reads == [False]
    # Rotation: the server takes a new password and the secret holds it; this process still caches the old one.
    new_password = secrets.token_urlsafe(16)
    set_password(server_url, role, new_password)
    rotate(new_password)
    db.reset_database()  # the warm container's connection is gone (say, the proxy's idle timeout)
    with db.database().transaction() as conn:
        assert conn.execute("SELECT current_user").fetchone() == {"current_user": role.name}
    assert reads == [False, False, True]  # the cached secret, then one read past the cache


def test_a_password_that_fails_again_after_the_re_read_is_a_503(
    secret_reads: tuple[Callable[[str], None], list[bool]], role: Role, server_url: str
) -> None:
    _, reads = secret_reads
    set_password(server_url, role, secrets.token_urlsafe(16))  # the secret was not updated
    with pytest.raises(errors.ServiceUnavailable), db.database().transaction():
        pass
    assert reads == [False, True]
    db.reset_database()
    status, headers, body = invoke("submit", "POST", "/api/reckoning", "POST /api/reckoning", body=submission())
    assert (status, body["error"]["code"]) == (503, "SERVICE_UNAVAILABLE")
    assert int(headers["Retry-After"]) > 0
    assert reads == [False, True, False, True]
