"""Database connection settings: TLS by environment, and the CA bundle the artifacts verify RDS Proxy with."""

from pathlib import Path

import certifi
import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from pydantic import ValidationError

from reckoning import config
from tests.helpers import Env


@pytest.fixture
def production(env: Env) -> None:
    env(ENVIRONMENT="production", DATABASE_URL="postgresql://app@proxy.example/reckoning")


@pytest.mark.usefixtures("production")
def test_production_verifies_the_server_against_certifis_bundle_by_default() -> None:
    assert config.database_tls() == {"sslmode": "verify-full", "sslrootcert": certifi.where()}


@pytest.mark.usefixtures("production")
def test_production_takes_another_bundle_when_told(env: Env) -> None:
    env(DB_SSLROOTCERT="/etc/pki/tls/certs/ca-bundle.crt")
    assert config.database_tls() == {"sslmode": "verify-full", "sslrootcert": "/etc/pki/tls/certs/ca-bundle.crt"}


@pytest.mark.usefixtures("production")
@pytest.mark.parametrize("mode", ["disable", "allow", "prefer", "require", "verify-ca"])
def test_production_refuses_a_connection_that_does_not_verify_the_server(env: Env, mode: str) -> None:
    env(DB_SSLMODE=mode)
    with pytest.raises(ValidationError, match=f"DB_SSLMODE={mode}"):
        config.settings()


def test_locally_the_url_or_libpq_decides() -> None:
    assert config.database_tls() == {}  # libpq's default, prefer (the embedded server is a Unix socket)


def test_locally_a_setting_is_honoured(env: Env) -> None:
    env(DB_SSLMODE="verify-full")
    assert config.database_tls() == {"sslmode": "verify-full", "sslrootcert": certifi.where()}
    env(DB_SSLMODE="disable")
    assert config.database_tls() == {"sslmode": "disable"}


def test_an_unknown_sslmode_is_refused(env: Env) -> None:
    env(DB_SSLMODE="verify_full")
    with pytest.raises(ValidationError, match="db_sslmode"):
        config.settings()


@pytest.mark.filterwarnings("ignore:Parsed a serial number")  # an old root of another CA in Mozilla's list
def test_the_bundle_holds_the_amazon_roots_that_rds_proxy_certificates_chain_to() -> None:
    roots = x509.load_pem_x509_certificates(Path(certifi.where()).read_bytes())
    names = {attr.value for cert in roots for attr in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)}
    assert {"Amazon Root CA 1", "Amazon Root CA 2", "Amazon Root CA 3", "Amazon Root CA 4"} <= names
    assert "Starfield Services Root Certificate Authority - G2" in names  # the cross-signer of Amazon's roots
