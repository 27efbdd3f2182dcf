"""Check HTTP requests and responses against the contracts.

:func:`validate_response` and :func:`validate_request` return a list of problems (empty: conforms).
They match the path against the document's path templates, pick the operation by method and the
response by status and content type, validate JSON bodies with JSON Schema Draft 2020-12 (with the
formats of :mod:`mockserver.spec.formats`) and ``text/event-stream`` bodies event by event
(:mod:`mockserver.spec.sse`). Unknown routes (404) and wrong methods (405) are checked against the API's
route error schema (the document's ``x-route-errors``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import parse_qsl

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from mockserver.spec import sse
from mockserver.spec.compiled import CheckedValidator, CompiledDocument, checked
from mockserver.spec.formats import FORMATS
from mockserver.spec.loader import built

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
MAX_PROBLEMS = 8
Headers = Mapping[str, str] | Iterable[tuple[str, str]]


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _lower_headers(headers: Headers) -> dict[str, str]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {str(name).lower(): str(value) for name, value in items}


def _media(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def _json_path(parts: Iterable[Any]) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


@dataclass(frozen=True)
class Located:
    """A node of the document and its JSON pointer (after following ``$ref``)."""

    node: Any
    pointer: str


@dataclass(frozen=True)
class Route:
    template: str
    pattern: re.Pattern[str]
    names: tuple[str, ...]


class Contract:
    """One API's document, ready to validate against (cached per API by :func:`contract`)."""

    def __init__(self, api: str) -> None:
        self.api = api
        self.doc = built(api)
        self.uri = f"urn:mockserver:contract:{api}"
        self.registry: Registry = Registry().with_resource(
            self.uri, Resource.from_contents(self.doc, default_specification=DRAFT202012))
        self.routes = sorted((self._route(t) for t in self.doc["paths"]),
                             key=lambda r: (len(r.names), -len(r.template)))
        self._validators: dict[str, CheckedValidator] = {}
        self._compiled: CompiledDocument | None = None

    @staticmethod
    def _route(template: str) -> Route:
        names = tuple(re.findall(r"{([^}/]+)}", template))
        regex = re.sub(r"\\{[^}/]+\\}", "([^/]+)", re.escape(template))
        return Route(template, re.compile(f"^{regex}$"), names)

    # -- navigation ---------------------------------------------------------------------------

    def at(self, pointer: str) -> Any:
        node: Any = self.doc
        for token in pointer.lstrip("/").split("/") if pointer else []:
            token = token.replace("~1", "/").replace("~0", "~")
            node = node[int(token)] if isinstance(node, list) else node[token]
        return node

    def resolve(self, node: Any, pointer: str) -> Located:
        """Follow OpenAPI ``$ref`` (to ``#/components/...``) until a concrete object."""
        seen = set()
        while isinstance(node, dict) and "$ref" in node and isinstance(node["$ref"], str):
            ref = node["$ref"]
            if not ref.startswith("#/") or ref in seen:
                break
            seen.add(ref)
            pointer = ref[1:]
            node = self.at(pointer)
        return Located(node, pointer)

    def match(self, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            found = route.pattern.match(path)
            if found:
                return route, dict(zip(route.names, found.groups(), strict=True))
        return None

    def operation(self, template: str, method: str) -> Located | None:
        item = self.doc["paths"][template]
        op = item.get(method.lower())
        return None if op is None else Located(op, f"/paths/{_escape(template)}/{method.lower()}")

    def methods(self, template: str) -> list[str]:
        return [m.upper() for m in METHODS if m in self.doc["paths"][template]]

    # -- schemas --------------------------------------------------------------------------------

    def validator(self, pointer: str) -> CheckedValidator:
        """The validator of ``#<pointer>`` (compiled once): a fast yes for conforming instances, and the Python
        validator's own errors for the others (:mod:`mockserver.spec.compiled`)."""
        found = self._validators.get(pointer)
        if found is None:
            slow = Draft202012Validator({"$ref": f"{self.uri}#{pointer}"}, registry=self.registry,
                                        format_checker=FORMATS)
            found = checked(slow, lambda: self._compiled_document().check(pointer))
            self._validators[pointer] = found
        return found

    def _compiled_document(self) -> CompiledDocument:
        if self._compiled is None:
            self._compiled = CompiledDocument(self.uri, self.doc, FORMATS)
        return self._compiled

    def schema_problems(self, pointer: str, instance: Any) -> list[str]:
        errors = sorted(self.validator(pointer).iter_errors(instance), key=lambda e: list(e.absolute_path))
        problems: list[str] = []
        for error in errors:
            problems.extend(explain(error))
        return problems[:MAX_PROBLEMS]

    # -- route errors ---------------------------------------------------------------------------

    def route_error_pointer(self, path: str) -> str:
        """The error schema of ``path`` from ``x-route-errors`` (first matching prefix)."""
        for index, rule in enumerate(self.doc["x-route-errors"]["routes"]):
            prefix = rule["prefix"]
            if prefix == "/" or path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                return f"/x-route-errors/routes/{index}/schema"
        raise LookupError(f"no x-route-errors rule for {path}")


@cache
def contract(api: str) -> Contract:
    return Contract(api)


def _unknown_discriminator(error: ValidationError) -> str | None:
    """For a discriminated ``oneOf`` whose property names no branch: the problem, naming the property."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    discriminator = schema.get("discriminator")
    if error.validator != "oneOf" or not isinstance(discriminator, dict) or not isinstance(error.instance, dict):
        return None
    name = discriminator["propertyName"]
    value = error.instance.get(name)
    if isinstance(value, str) and value in discriminator.get("mapping", {}):
        return None
    return f"{_json_path([*error.absolute_path, name])}: {value!r} is not one of the documented values"


def closest_errors(error: ValidationError) -> list[ValidationError]:
    """The errors that explain ``error``: for ``anyOf``/``oneOf``, those of the branch the instance meant
    (the discriminated one, or the only one its type fits), recursively; else ``error`` itself."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator not in ("anyOf", "oneOf") or not error.context:
        return [error]
    discriminator = schema.get("discriminator")
    branch: list[ValidationError] = []
    if isinstance(discriminator, dict) and isinstance(error.instance, dict):
        target = discriminator.get("mapping", {}).get(error.instance.get(discriminator["propertyName"]))
        index = next((i for i, b in enumerate(schema[error.validator]) if target and b.get("$ref") == target), None)
        branch = [e for e in error.context if e.relative_schema_path and e.relative_schema_path[0] == index]
    else:
        branch = _closest_branch(error)
    if not branch:
        return [error]
    return [leaf for sub in sorted(branch, key=lambda e: list(map(str, e.absolute_path)))
            for leaf in closest_errors(sub)]


def explain(error: ValidationError) -> list[str]:
    """Readable problems for one validation error, each prefixed with the JSON path it concerns."""
    unknown = _unknown_discriminator(error)
    if unknown is not None:
        return [unknown]
    problems = []
    for leaf in closest_errors(error):
        schema = leaf.schema if isinstance(leaf.schema, dict) else {}
        message = schema.get("x-message") if leaf.validator != "required" else None
        problems.append(f"{_json_path(leaf.absolute_path)}: {message or leaf.message}")
    return problems


def _closest_branch(error: ValidationError) -> list[ValidationError]:
    """The errors of the one ``anyOf``/``oneOf`` branch that fits the instance's type, if only one does."""
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context or ():
        branches.setdefault(sub.relative_schema_path[0] if sub.relative_schema_path else None, []).append(sub)
    here = list(error.absolute_path)

    def type_mismatch(errors: list[ValidationError]) -> bool:
        return any(e.validator in ("type", "const") and list(e.absolute_path) == here for e in errors)

    fitting = [errors for errors in branches.values() if not type_mismatch(errors)]
    return fitting[0] if len(fitting) == 1 else []


# -- responses ------------------------------------------------------------------------------------


def _pick_response(responses: Mapping[str, Any], status: int) -> str | None:
    for key in (str(status), f"{status // 100}XX", "default"):
        if key in responses:
            return key
    return None


def _decode(body: bytes | str) -> str:
    return body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body


def _body_problems(found: Contract, media: str, located: Located, body: bytes | str, complete: bool) -> list[str]:
    """Problems of a body against one media type object of the document."""
    media_type = located.node
    schema_pointer = f"{located.pointer}/schema"
    if media == "text/event-stream":
        spec = media_type.get("x-sse")
        if spec is None:
            return []

        def check_event(name: str, data: Any) -> list[str]:
            return found.schema_problems(f"{located.pointer}/x-sse/events/{_escape(name)}", data)

        return sse.check(_decode(body), spec, check_event, complete=complete)
    if media == "application/json" or media.endswith("+json"):
        try:
            data = json.loads(body)
        except ValueError as exc:
            return [f"body is not JSON ({exc})"]
        return found.schema_problems(schema_pointer, data)
    return []  # text and binary bodies: the media type is all the contract says


def _header_problems(found: Contract, response: Located, headers: dict[str, str]) -> list[str]:
    problems = []
    for name, header in response.node.get("headers", {}).items():
        spec = found.resolve(header, f"{response.pointer}/headers/{_escape(name)}")
        value = headers.get(name.lower())
        if value is None:
            if spec.node.get("required"):
                problems.append(f"header {name} is missing")
            continue
        if "schema" in spec.node:
            problems.extend(f"header {name}: {p}" for p in found.schema_problems(f"{spec.pointer}/schema", value))
    return problems


def route_error_problems(api: str, path: str, status: int, headers: Headers, body: bytes | str) -> list[str]:
    """Problems of an error response on any route (unknown route, wrong method, an injected fault)."""
    found = contract(api)
    lowered = _lower_headers(headers)
    media = _media(lowered.get("content-type"))
    if status < 400:
        return [f"status {status} where an error was expected"]
    if media != "application/json":
        return [f"error response has content type {media or 'none'!r}, not application/json"]
    try:
        data = json.loads(body)
    except ValueError as exc:
        return [f"error body is not JSON ({exc})"]
    return found.schema_problems(found.route_error_pointer(path), data)


def validate_response(api: str, method: str, path: str, status: int, headers: Headers, body: bytes | str,
                      complete: bool = True) -> list[str]:
    """Problems of one response of ``api`` to ``method path`` (the decoded path relative to the API root,
    without the query string).

    ``complete`` is False when the client stopped reading a stream early.
    """
    found = contract(api)
    lowered = _lower_headers(headers)
    matched = found.match(path)
    head = f"{method.upper()} {path} -> {status}"
    if matched is None:
        if status == 404:
            return [f"{head}: {p}" for p in route_error_problems(api, path, status, lowered, body)]
        return [f"{head}: no documented path matches"]
    route, _params = matched
    operation = found.operation(route.template, method)
    head = f"{method.upper()} {route.template} -> {status}"
    if operation is None:
        if status == 405:
            return [f"{head}: {p}" for p in route_error_problems(api, path, status, lowered, body)]
        return [f"{head}: method not documented (documented: {', '.join(found.methods(route.template))})"]
    responses = operation.node.get("responses", {})
    key = _pick_response(responses, status)
    if key is None:
        return [f"{head}: status not documented (documented: {', '.join(responses)})"]
    response = found.resolve(responses[key], f"{operation.pointer}/responses/{key}")
    problems = _header_problems(found, response, lowered)
    content = response.node.get("content")
    media = _media(lowered.get("content-type"))
    if content:
        if media not in content:
            problems.append(f"content type {media or 'none'!r} not documented (documented: {', '.join(content)})")
        else:
            media_type = Located(content[media], f"{response.pointer}/content/{_escape(media)}")
            problems.extend(_body_problems(found, media, media_type, body, complete))
    elif body:
        problems.append("a body where none is documented")
    return [f"{head} {media}: {p}" for p in problems]


# -- requests -------------------------------------------------------------------------------------


def _coerce(schema: Any, raw: str) -> Any:
    """A query/path/header string as the type its schema names (left as is when it does not parse)."""
    kinds: set[Any] = set()
    for node in [schema, *(schema.get("anyOf", []) + schema.get("oneOf", []) if isinstance(schema, dict) else [])]:
        kind = node.get("type") if isinstance(node, dict) else None
        kinds.update(kind if isinstance(kind, list) else [kind])
    try:
        if "integer" in kinds:
            return int(raw)
        if "number" in kinds:
            return float(raw)
    except ValueError:
        return raw
    if "boolean" in kinds and raw in ("true", "false"):
        return raw == "true"
    return raw


def _security_problems(found: Contract, operation: Located, headers: dict[str, str],
                       query: dict[str, str]) -> list[str]:
    requirements = operation.node.get("security", found.doc.get("security", []))
    if not requirements:
        return []
    schemes = found.doc["components"]["securitySchemes"]

    def present(name: str) -> bool:
        scheme = schemes[name]
        if scheme["type"] == "apiKey":
            source = headers if scheme["in"] == "header" else query
            return bool(source.get(scheme["name"].lower() if scheme["in"] == "header" else scheme["name"]))
        if scheme["type"] == "http" and scheme.get("scheme", "").lower() == "bearer":
            return headers.get("authorization", "").lower().startswith("bearer ")
        return False

    if any(all(present(name) for name in requirement) for requirement in requirements):
        return []
    wanted = " or ".join("+".join(requirement) or "none" for requirement in requirements)
    return [f"no credentials: send {wanted}"]


def _parameter_problems(found: Contract, route: Route, operation: Located, path_params: dict[str, str],
                        headers: dict[str, str], query: dict[str, str]) -> list[str]:
    problems = []
    item_pointer = f"/paths/{_escape(route.template)}"
    declared = [(p, f"{item_pointer}/parameters/{i}")
                for i, p in enumerate(found.doc["paths"][route.template].get("parameters", []))]
    declared += [(p, f"{operation.pointer}/parameters/{i}") for i, p in enumerate(operation.node.get("parameters", []))]
    for raw, pointer in declared:
        param = found.resolve(raw, pointer)
        name, where = param.node["name"], param.node["in"]
        source = {"path": path_params, "query": query, "header": headers}.get(where, {})
        value = source.get(name.lower() if where == "header" else name)
        if value is None:
            if param.node.get("required"):
                problems.append(f"{where} parameter {name} is missing")
            continue
        if "schema" in param.node:
            coerced = _coerce(param.node["schema"], value)
            problems.extend(f"{where} parameter {name}: {p}"
                            for p in found.schema_problems(f"{param.pointer}/schema", coerced))
    return problems


def validate_request(api: str, method: str, path: str, headers: Headers, body: bytes | str = b"",
                     query: str = "") -> list[str]:
    """Problems of one request to ``api`` (the decoded path relative to the API root; ``query`` without ``?``)."""
    found = contract(api)
    lowered = _lower_headers(headers)
    params = dict(parse_qsl(query, keep_blank_values=True))
    matched = found.match(path)
    if matched is None:
        return [f"{method.upper()} {path}: no documented path matches"]
    route, path_params = matched
    operation = found.operation(route.template, method)
    head = f"{method.upper()} {route.template}"
    if operation is None:
        return [f"{head}: method not documented (documented: {', '.join(found.methods(route.template))})"]
    problems = _security_problems(found, operation, lowered, params)
    problems += _parameter_problems(found, route, operation, path_params, lowered, params)
    if "requestBody" in operation.node:
        request_body = found.resolve(operation.node["requestBody"], f"{operation.pointer}/requestBody")
        media = _media(lowered.get("content-type"))
        content = request_body.node.get("content", {})
        if not body:
            if request_body.node.get("required"):
                problems.append("the request body is missing")
        elif media not in content:
            problems.append(f"content type {media or 'none'!r} not documented (documented: {', '.join(content)})")
        elif media == "application/json":
            try:
                data = json.loads(body)
            except ValueError as exc:
                problems.append(f"body is not JSON ({exc})")
            else:
                pointer = f"{request_body.pointer}/content/{_escape(media)}/schema"
                problems += found.schema_problems(pointer, data)
    return [f"{head}: {p}" for p in problems]


def validate_schema(api: str, name: str, instance: Any) -> list[str]:
    """Problems of ``instance`` against ``#/components/schemas/<name>`` of ``api``'s document."""
    return contract(api).schema_problems(f"/components/schemas/{_escape(name)}", instance)
