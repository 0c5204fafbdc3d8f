"""OpenAPI: every operation documents the errors it can answer, so clients (and schemathesis) can rely on it."""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": "Messages per field; `non_field_errors` for the object as a whole; "
    "`detail` when the body could not be read at all.",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": {
        "oneOf": [
            {"type": "array", "items": {"type": "string"}},
            # Nested lists (one entry per tag) for list fields.
            {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        ]
    },
}

_ERRORS_FOR_EVERY_OPERATION = {
    "401": "Missing or invalid credentials (`Authorization: Token <key>` or a session).",
    "403": "Signed in but not allowed: a viewer writing, or a session request without a valid CSRF token.",
    "404": "No such workspace for you (not a member), no such object in it, or no such page.",
    "406": "The `Accept` header asks for something other than JSON.",
    "429": "Too many requests; retry after the number of seconds in `Retry-After`.",
    "500": "A fault on the server, not in the request; it is logged and retrying later may work.",
}
_ERRORS_FOR_BODIES = {
    "400": "Invalid input; the body names each field and what to fix.",
    "409": "Conflicts with existing data (an e-mail another contact of the workspace has); names the field.",
    "413": "The body is larger than the server accepts (2.5 MB by default).",
    "415": "The body is not `application/json`.",
}


def _error(description: str, ref: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": ref}}}}


def add_error_responses(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """drf-spectacular post-processing hook: add the error responses each operation can produce."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    schemas["ValidationError"] = VALIDATION_ERROR_SCHEMA
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for code, description in _ERRORS_FOR_EVERY_OPERATION.items():
                responses.setdefault(code, _error(description, "#/components/schemas/Error"))
            takes_query = any(p.get("in") == "query" for p in operation.get("parameters", []))
            if "requestBody" in operation or takes_query:
                responses.setdefault(
                    "400", _error(_ERRORS_FOR_BODIES["400"], "#/components/schemas/ValidationError")
                )
            if "requestBody" in operation:
                responses.setdefault(
                    "409", _error(_ERRORS_FOR_BODIES["409"], "#/components/schemas/ValidationError")
                )
                for code in ("413", "415"):
                    responses.setdefault(code, _error(_ERRORS_FOR_BODIES[code], "#/components/schemas/Error"))
    return result


_CONTACT_OPERATIONS = {"get": "Fetch", "put": "Replace", "patch": "Change", "delete": "Delete"}


def add_contact_links(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """OpenAPI links from "create a contact" to what can be done with it next (clients and fuzzers follow them)."""
    paths = result.get("paths", {})
    collection = next((p for p in paths if p.endswith("/contacts/")), None)
    item = next((p for p in paths if p.endswith("/contacts/{contact_id}/")), None)
    if not (collection and item and "post" in paths[collection]):
        return result
    created = paths[collection]["post"]["responses"].get("201")
    if created is None:
        return result
    created["links"] = {
        f"{verb}Contact": {
            "operationId": paths[item][method]["operationId"],
            "parameters": {"workspace_id": "$request.path.workspace_id", "contact_id": "$response.body#/id"},
            "description": f"{verb} the contact just created.",
        }
        for method, verb in _CONTACT_OPERATIONS.items()
        if method in paths[item]
    }
    return result


_ETAG_HEADER = {
    "ETag": {
        "description": 'The contact\'s version, e.g. `"3"`: send it back in `If-Match` to change the contact '
        "only if nobody changed it since.",
        "schema": {"type": "string"},
    }
}


def add_contact_etags(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """Every answer that carries one contact also carries its version as `ETag`."""
    for path, path_item in result.get("paths", {}).items():
        if not path.endswith(("/contacts/", "/contacts/{contact_id}/")):
            continue
        for method, operation in path_item.items():
            for code in ("200", "201", "412"):
                response = operation.get("responses", {}).get(code)
                if response and not (method == "get" and path.endswith("/contacts/")):
                    response.setdefault("headers", {}).update(_ETAG_HEADER)
    return result
