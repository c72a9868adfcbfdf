"""Reads a SAM template's functions and layers, and writes the built template that `sam deploy` uses.

Short-form CloudFormation tags (`!Ref`, `!Sub`, `!GetAtt`, …) load as their long
forms (`{"Ref": …}`) and are written back that way, as `sam build` does.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from reckoning_local.template import load_yaml

FUNCTION = "AWS::Serverless::Function"
LAYER = "AWS::Serverless::LayerVersion"
# Metadata that tells `sam build` how to build; meaningless once built.
BUILD_METADATA = ("BuildMethod", "BuildProperties", "BuildArchitecture", "ContextPath", "WorkingDirectory")


class TemplateError(ValueError):
    """The template cannot be built as it stands."""


def load(text: str) -> dict[str, Any]:
    """Parse template text into plain data, intrinsic functions in their long forms."""
    try:
        document = load_yaml(text)  # the local stack's CloudFormation-aware loader
    except ValueError as exc:
        raise TemplateError(str(exc)) from exc
    if not isinstance(document.get("Resources"), dict):
        raise TemplateError("a template must be a mapping with Resources")
    return document


def dump(document: Mapping[str, Any]) -> str:
    """YAML text of a template (long-form intrinsics, keys in their original order)."""
    return yaml.safe_dump(dict(document), sort_keys=False, width=120, allow_unicode=True)


@dataclass(frozen=True, slots=True)
class Function:
    """A zip-packaged function, its properties merged with `Globals.Function` as SAM merges them."""

    logical_id: str
    code_uri: str
    handler: str
    runtime: str
    architecture: str
    layers: tuple[str, ...]  # logical ids of the template's own layers, in order


@dataclass(frozen=True, slots=True)
class Layer:
    logical_id: str
    content_uri: str


def functions(document: Mapping[str, Any]) -> dict[str, Function]:
    """Every `AWS::Serverless::Function` of the template, by logical id."""
    defaults: Mapping[str, Any] = (document.get("Globals") or {}).get("Function") or {}
    return {
        logical_id: _function(logical_id, defaults, resource.get("Properties") or {}, document["Resources"])
        for logical_id, resource in document["Resources"].items()
        if resource.get("Type") == FUNCTION
    }


def layers(document: Mapping[str, Any]) -> dict[str, Layer]:
    """Every `AWS::Serverless::LayerVersion` of the template, by logical id."""
    found: dict[str, Layer] = {}
    for logical_id, resource in document["Resources"].items():
        if resource.get("Type") == LAYER:
            uri = (resource.get("Properties") or {}).get("ContentUri")
            if not isinstance(uri, str):
                raise TemplateError(f"{logical_id}: ContentUri must be a local folder")
            found[logical_id] = Layer(logical_id, uri)
    return found


def _function(
    logical_id: str, defaults: Mapping[str, Any], own: Mapping[str, Any], resources: Mapping[str, Any]
) -> Function:
    props = {**defaults, **own}
    if props.get("PackageType", "Zip") != "Zip" or not isinstance(props.get("CodeUri"), str):
        raise TemplateError(f"{logical_id}: only zip functions with a local CodeUri can be built")
    for key in ("Handler", "Runtime"):
        if not isinstance(props.get(key), str):
            raise TemplateError(f"{logical_id}: {key} must be a plain string")
    # SAM appends a function's own Layers to the global ones.
    refs = [*(defaults.get("Layers") or []), *(own.get("Layers") or [])]
    own_layers = tuple(
        ref["Ref"]
        for ref in refs
        if isinstance(ref, dict) and (resources.get(str(ref.get("Ref"))) or {}).get("Type") == LAYER
    )
    architectures = props.get("Architectures") or ["x86_64"]
    return Function(
        logical_id=logical_id,
        code_uri=props["CodeUri"],
        handler=props["Handler"],
        runtime=props["Runtime"],
        architecture=str(architectures[0]),
        layers=own_layers,
    )


def rewrite(document: Mapping[str, Any], built: Mapping[str, str]) -> dict[str, Any]:
    """A copy of the template whose functions and layers point at built folders.

    `built` maps a logical id to its folder relative to where the built template
    is written; `sam build`'s own metadata (BuildMethod) is dropped.
    """
    result = copy.deepcopy(dict(document))
    resources = result["Resources"]
    for logical_id, folder in built.items():
        resource = resources[logical_id]
        key = {FUNCTION: "CodeUri", LAYER: "ContentUri"}.get(resource.get("Type"))
        if key is None:
            raise TemplateError(f"{logical_id} is neither a function nor a layer")
        resource.setdefault("Properties", {})[key] = folder
        metadata = resource.get("Metadata")
        if isinstance(metadata, dict):
            for name in BUILD_METADATA:
                metadata.pop(name, None)
            if not metadata:
                del resource["Metadata"]
    return result


def read(path: Path) -> dict[str, Any]:
    return load(path.read_text(encoding="utf-8"))
