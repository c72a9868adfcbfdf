"""The optional foundation stack (infra/foundation/template.yaml) feeds the application stack exactly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reckoning_local.template import load_document

ROOT = Path(__file__).resolve().parents[2]
FOUNDATION = load_document((ROOT / "infra" / "foundation" / "template.yaml").read_text())
APPLICATION = load_document((ROOT / "template.yaml").read_text())
RESOURCES: dict[str, Any] = FOUNDATION["Resources"]


def _infrastructure_parameters() -> set[str]:
    """What a deployer must supply: the application's parameters without a default."""
    return {name for name, spec in APPLICATION["Parameters"].items() if "Default" not in spec}


def _of_type(kind: str) -> dict[str, Any]:
    return {key: resource for key, resource in RESOURCES.items() if resource["Type"] == kind}


def test_the_foundations_outputs_are_exactly_the_applications_infrastructure_parameters() -> None:
    assert set(FOUNDATION["Outputs"]) == _infrastructure_parameters()


def test_every_output_has_a_description_and_a_value() -> None:
    for name, output in FOUNDATION["Outputs"].items():
        assert output.get("Description"), name
        assert output.get("Value"), name


def test_the_database_host_is_the_proxy_and_the_proxy_requires_tls() -> None:
    ((proxy_id, proxy),) = _of_type("AWS::RDS::DBProxy").items()
    assert proxy["Properties"]["RequireTLS"] is True
    assert proxy["Properties"]["EngineFamily"] == "POSTGRESQL"
    assert FOUNDATION["Outputs"]["DatabaseHost"]["Value"] == {"Fn::GetAtt": [proxy_id, "Endpoint"]}
    assert "Default" not in APPLICATION["Parameters"]["DatabaseHost"]


def test_rds_manages_the_master_password_and_the_proxy_and_the_application_read_that_secret() -> None:
    ((cluster_id, cluster),) = _of_type("AWS::RDS::DBCluster").items()
    assert cluster["Properties"]["ManageMasterUserPassword"] is True
    assert "MasterUserPassword" not in cluster["Properties"]
    # The managed secret holds username and password only: the application's default database name must match.
    assert cluster["Properties"]["DatabaseName"] == "reckoning"
    secret = {"Fn::GetAtt": [cluster_id, "MasterUserSecret.SecretArn"]}
    ((proxy,),) = [p["Properties"]["Auth"] for p in _of_type("AWS::RDS::DBProxy").values()]
    assert proxy["SecretArn"] == secret
    assert FOUNDATION["Outputs"]["DatabaseSecretArn"]["Value"] == secret


def test_the_database_answers_only_the_proxy_and_the_proxy_only_the_functions() -> None:
    groups = _of_type("AWS::EC2::SecurityGroup")

    def sources(group: str) -> list[Any]:
        return [rule.get("SourceSecurityGroupId") for rule in groups[group]["Properties"]["SecurityGroupIngress"]]

    assert sources("DatabaseSecurityGroup") == [{"Ref": "ProxySecurityGroup"}]
    assert sources("ProxySecurityGroup") == [{"Ref": "FunctionSecurityGroup"}]
    assert FOUNDATION["Outputs"]["SecurityGroupIds"]["Value"] == {"Ref": "FunctionSecurityGroup"}


def test_the_functions_subnets_are_private_in_two_zones() -> None:
    subnets = FOUNDATION["Outputs"]["SubnetIds"]["Value"]["Fn::Join"][1]
    assert [s["Ref"] for s in subnets] == ["PrivateSubnetA", "PrivateSubnetB"]
    zones = {str(RESOURCES[s["Ref"]]["Properties"]["AvailabilityZone"]) for s in subnets}
    assert len(zones) == 2
    routes = [r["Properties"] for r in _of_type("AWS::EC2::Route").values()]
    private_tables = {"PrivateRouteTableA", "PrivateRouteTableB"}
    assert all("NatGatewayId" in r for r in routes if r["RouteTableId"]["Ref"] in private_tables)


def test_the_digest_key_outlives_the_stack() -> None:
    key = RESOURCES["DigestKey"]
    assert key["DeletionPolicy"] == key["UpdateReplacePolicy"] == "Retain"
