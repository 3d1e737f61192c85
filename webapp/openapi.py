"""The API's OpenAPI description (docs/openapi.yaml): loaded once, served as JSON, and turned into
the rows of the server-rendered /api/docs page (no JavaScript, no CDN)."""

import json
from functools import lru_cache

import yaml
from django.conf import settings
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from markdown_it import MarkdownIt

SCHEMA_PATH = settings.BASE_DIR / "docs" / "openapi.yaml"
METHODS = ("get", "post", "put", "patch", "delete")
# "js-default" leaves raw HTML escaped: the schema is ours, but the page should not trust it.
_markdown = MarkdownIt("js-default")


@lru_cache(maxsize=1)
def schema_text() -> str:
    return SCHEMA_PATH.read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def schema() -> dict:
    return yaml.safe_load(schema_text())


@lru_cache(maxsize=1)
def schema_json() -> bytes:
    return json.dumps(schema(), ensure_ascii=False, indent=1).encode("utf-8")


def markdown(text: str | None) -> str:
    return mark_safe(_markdown.render(text or ""))  # noqa: S308 - html is off, see _markdown


def deref(node, spec: dict):
    """Follow a local ``$ref`` (``#/components/...``) until a node without one."""
    seen = 0
    while isinstance(node, dict) and "$ref" in node:
        target = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node, seen = target, seen + 1
        if seen > 20:
            raise ValueError("a $ref cycle in the schema")
    return node


def type_name(node, spec: dict) -> str:
    """A short, readable type: 'string', 'integer (≥ 1)', 'one of: a, b', 'array of object', 'X or null'."""
    node = deref(node, spec)
    either = _(" or ")
    if "const" in node:
        return json.dumps(node["const"])
    if "enum" in node:
        return _("one of: %(values)s") % {"values": ", ".join(str(v) for v in node["enum"])}
    for combiner in ("oneOf", "anyOf"):
        if combiner in node:
            return either.join(type_name(option, spec) for option in node[combiner])
    kind = node.get("type", "any")
    if isinstance(kind, list):
        return either.join(kind)
    if kind == "array":
        return _("array of %(type)s") % {"type": type_name(node.get("items", {}), spec)}
    extras = [f"{node['format']}"] if "format" in node else []
    if "minimum" in node and "maximum" in node:
        extras.append(f"{node['minimum']}–{node['maximum']}")
    elif "minimum" in node:
        extras.append(f"≥ {node['minimum']}")
    if "maxLength" in node:
        extras.append(_("≤ %(n)s characters") % {"n": node["maxLength"]})
    return kind + (f" ({', '.join(extras)})" if extras else "")


def field_rows(node, spec: dict, prefix: str = "", depth: int = 0) -> list[dict]:
    """One row per field of an object schema, nested objects and arrays of objects as dotted names."""
    node = deref(node, spec)
    rows = []
    if depth > 4:
        return rows
    required = set(node.get("required", ()))
    for name, child in node.get("properties", {}).items():
        child = deref(child, spec)
        full = f"{prefix}{name}"
        rows.append({"name": full, "type": type_name(child, spec), "required": name in required,
                     "description": markdown(child.get("description"))})
        items = deref(child.get("items", {}), spec) if child.get("type") == "array" else {}
        if items.get("properties"):
            rows += field_rows(items, spec, f"{full}[].", depth + 1)
        elif child.get("properties"):
            rows += field_rows(child, spec, f"{full}.", depth + 1)
    return rows


def _content(content: dict, spec: dict) -> list[dict]:
    bodies = []
    for media_type, media in (content or {}).items():
        body_schema = deref(media.get("schema", {}), spec)
        examples = [{"name": name, "json": json.dumps(deref(example, spec).get("value"), ensure_ascii=False,
                                                       indent=2)}
                    for name, example in (media.get("examples") or {}).items()]
        bodies.append({"media_type": media_type, "type": type_name(body_schema, spec),
                       "fields": field_rows(body_schema, spec), "examples": examples})
    return bodies


def _security(requirements: list, spec: dict) -> list[list[dict]]:
    schemes = spec.get("components", {}).get("securitySchemes", {})
    return [[{"name": schemes[name]["name"], "in": schemes[name]["in"]} for name in requirement]
            for requirement in requirements or []]


def operations(spec: dict | None = None) -> list[dict]:
    """Every operation in the schema, in file order, ready for the template."""
    spec = spec or schema()
    found = []
    for path, item in spec["paths"].items():
        shared = item.get("parameters", [])
        for method in METHODS:
            if method not in item:
                continue
            operation = item[method]
            parameters = [deref(p, spec) for p in shared + operation.get("parameters", [])]
            body = deref(operation.get("requestBody", {}), spec)
            responses = []
            for status, response in operation.get("responses", {}).items():
                response = deref(response, spec)
                headers = [{"name": name, "description": markdown(deref(header, spec).get("description"))}
                           for name, header in (response.get("headers") or {}).items()]
                responses.append({"status": status, "description": markdown(response.get("description")),
                                  "headers": headers, "bodies": _content(response.get("content"), spec)})
            found.append({
                "id": operation.get("operationId") or f"{method}-{path}",
                "method": method.upper(), "path": path,
                "tags": operation.get("tags", []),
                "summary": operation.get("summary", ""),
                "description": markdown(operation.get("description")),
                "security": _security(operation.get("security", spec.get("security")), spec),
                "parameters": [{"name": p["name"], "in": p["in"], "required": p.get("required", False),
                                "type": type_name(p.get("schema", {}), spec),
                                "description": markdown(p.get("description"))} for p in parameters],
                "request_bodies": _content(body.get("content"), spec),
                "responses": responses,
            })
    return found
