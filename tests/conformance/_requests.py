"""Check one recorded HTTP request against an OpenAPI spec, with schemathesis' validators.

schemathesis finds the operation (``find_operation_by_path``) and validates parsed values
against each parameter's and the body's schema; what is left here is OpenAPI's own
deserialisation of the wire (percent-decoding, a query's text → the schema's type) and the
presence rules (required parameters and bodies, declared media types, no undeclared query
parameter, the security scheme's credentials).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes


@dataclass(frozen=True)
class Recorded:
    """A request as it went on the wire."""

    method: str
    #: the raw path (percent-encoding kept) and the raw query, as sent
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}" + (f"?{self.query}" if self.query else "")


def _resolve(spec: Mapping[str, Any], schema: Any) -> Any:
    """Follow local ``$ref``s (to read a parameter's type; validation resolves its own)."""
    seen = 0
    while isinstance(schema, Mapping) and "$ref" in schema and seen < 32:
        node: Any = spec
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        schema, seen = node, seen + 1
    return schema


def _types(spec: Mapping[str, Any], schema: Any) -> set[str]:
    schema = _resolve(spec, schema)
    if not isinstance(schema, Mapping):
        return set()
    found = {schema["type"]} if isinstance(schema.get("type"), str) else set()
    for key in ("anyOf", "oneOf", "allOf"):
        for item in schema.get(key, ()):
            found |= _types(spec, item)
    return found


def deserialize(spec: Mapping[str, Any], schema: Any, text: str) -> Any:
    """A primitive parameter's wire text as the value its schema types (style ``simple`` /
    ``form``): text that does not read as the type stays text, so validation reports it."""
    types = _types(spec, schema)
    if "integer" in types and text.lstrip("-").isdigit() and text.isascii():
        return int(text)
    if "number" in types:
        try:
            return float(text)
        except ValueError:
            pass
    if "boolean" in types and text in ("true", "false"):
        return text == "true"
    return text


def _check(validate: Any, value: Any, what: str, problems: list[str]) -> None:
    try:
        validate(value)
    except Exception as error:  # schemathesis' validator raises its engine's ValidationError
        problems.append(f"{what} = {value!r}: {getattr(error, 'message', error)}")


def _path_values(template: str, raw_path: str) -> dict[str, str] | None:
    names = template.strip("/").split("/")
    values = raw_path.strip("/").split("/")
    if len(names) != len(values):
        return None
    found: dict[str, str] = {}
    for name, value in zip(names, values, strict=True):
        if name.startswith("{") and name.endswith("}"):
            found[name[1:-1]] = unquote_to_bytes(value).decode("utf-8")
    return found


def _auth_problem(scheme: Mapping[str, Any], headers: Mapping[str, str]) -> str | None:
    value = headers.get("authorization", "")
    kind, _, credentials = value.partition(" ")
    wanted = str(scheme.get("scheme", "")).lower()
    if scheme.get("type") != "http" or kind.lower() != wanted or not credentials:
        return f"Authorization {kind or 'missing'!r}: the spec's security scheme is {wanted!r}"
    if wanted == "basic":
        user, _, password = base64.b64decode(credentials).decode().partition(":")
        if not user or password:
            return "Basic credentials must be '<api key>:' (the key as user, empty password)"
    return None


def problems(schema: Any, base_path: str, request: Recorded) -> list[str] | None:
    """What in ``request`` the spec does not allow; None if no operation describes it."""
    spec: Mapping[str, Any] = schema.raw_schema
    assert request.path.startswith(base_path + "/"), request.label
    path = request.path[len(base_path) :]
    operation = schema.find_operation_by_path(request.method, path)
    if operation is None:
        return None
    found: list[str] = []

    values = _path_values(operation.path, path)
    assert values is not None, (operation.path, path)
    for parameter in operation.path_parameters:
        schema_ = parameter.definition.get("schema")
        value = deserialize(spec, schema_, values[parameter.name])
        _check(parameter.validate, value, f"path {parameter.name}", found)

    pairs = parse_qsl(request.query, keep_blank_values=True, strict_parsing=bool(request.query))
    given: dict[str, list[str]] = {}
    for name, value in pairs:
        given.setdefault(name, []).append(value)
    declared = {parameter.name: parameter for parameter in operation.query}
    for name, texts in given.items():
        parameter = declared.get(name)
        if parameter is None:
            found.append(f"query {name!r} is not a parameter of {operation.label}")
            continue
        if len(texts) > 1:
            found.append(f"query {name!r} sent {len(texts)} times")
        value = deserialize(spec, parameter.definition.get("schema"), texts[0])
        _check(parameter.validate, value, f"query {name}", found)
    found += [
        f"required query {name!r} missing"
        for name, parameter in declared.items()
        if parameter.is_required and name not in given
    ]

    headers = {name.lower(): value for name, value in request.headers.items()}
    for parameter in operation.headers:
        text = headers.get(parameter.name.lower())
        if text is None:
            if parameter.is_required:
                found.append(f"required header {parameter.name!r} missing")
            continue
        value = deserialize(spec, parameter.definition.get("schema"), text)
        _check(parameter.validate, value, f"header {parameter.name}", found)

    body_spec = operation.definition.raw.get("requestBody")
    body_spec = _resolve(spec, body_spec) if body_spec is not None else None
    if request.body:
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        bodies = {body.media_type.lower(): body for body in operation.body}
        if body_spec is None:
            found.append(f"a {len(request.body)}-byte body, but {operation.label} takes none")
        elif media_type not in bodies:
            found.append(f"Content-Type {media_type!r}; the spec takes {sorted(bodies)}")
        elif media_type == "application/json":
            _check(bodies[media_type].validate, json.loads(request.body), "body", found)
    elif body_spec is not None and body_spec.get("required"):
        found.append(f"{operation.label} requires a body; none was sent")

    requirements = operation.definition.raw.get("security", spec.get("security", []))
    schemes = spec.get("components", {}).get("securitySchemes", {})
    for requirement in requirements:
        for name in requirement:
            problem = _auth_problem(schemes[name], headers)
            if problem is not None:
                found.append(problem)
    return found
