"""The OpenAPI parts of the feature-store routes and of scoring by entity."""

from __future__ import annotations

from typing import Any

__all__ = ["entity_parameters", "entity_schemas", "feature_paths"]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": _json(_ref("Error"))}


def entity_schemas(contract: dict[str, Any]) -> dict[str, Any]:
    """``Entity`` and ``EntityRequest``: what a scoring-by-entity body holds for this model."""
    keys = contract["entity"]
    events = sorted({c for g in contract["groups"] for c in g["event_columns"]})
    entity = {
        "type": "object",
        "required": keys,
        "properties": {
            **{k: {"type": ["string", "number", "integer"]} for k in keys},
            "event": {
                "type": "object",
                "description": "The request-time record: the model's request inputs ("
                f"{', '.join(contract['request_inputs']) or 'none'}), and with apply=true a "
                f"record of a group's source ({', '.join(events)}).",
            },
        },
    }
    return {
        "Entity": entity,
        "EntityRequest": {
            "oneOf": [
                entity,
                {
                    "type": "object",
                    "required": ["entities"],
                    "properties": {
                        "entities": {"type": "array", "items": _ref("Entity"), "minItems": 1},
                        "apply": {"type": "boolean"},
                        "features": {"type": "boolean"},
                        "at": {"type": "string", "format": "date-time"},
                    },
                },
            ],
            "description": "Features of "
            + ", ".join(contract["store_inputs"])
            + " are read from the online store (at the event's time when applied, else at "
            "'at' or now). The response adds 'missing' (entities the store does not know, "
            "scored with the training defaults), 'features' (with features=true) and "
            "'applied' (with apply=true).",
        },
    }


ENTITY_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "apply",
        "in": "query",
        "required": False,
        "schema": {"type": "boolean", "default": False},
        "description": "Entity requests: apply each event to the online store first "
        "(the offline log is appended in the background), then read at its time.",
    },
    {
        "name": "features",
        "in": "query",
        "required": False,
        "schema": {"type": "boolean", "default": False},
        "description": "Entity requests: return the feature values used, per entity.",
    },
]


def entity_parameters() -> list[dict[str, Any]]:
    return list(ENTITY_PARAMETERS)


FEATURE_SCHEMAS: dict[str, Any] = {
    "OnlineRequest": {
        "type": "object",
        "required": ["features", "entities"],
        "properties": {
            "features": {
                "type": "array",
                "items": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*(:.+)?$"},
                "minItems": 1,
                "description": "'GROUP' or 'GROUP:feature,...'.",
            },
            "entities": {
                "type": "array",
                "items": {"type": "object"},
                "minItems": 1,
                "description": "Key column -> value, per entity.",
            },
            "at": {"type": "string", "format": "date-time"},
        },
    },
    "OnlineResponse": {
        "type": "object",
        "required": ["rows", "missing"],
        "properties": {
            "rows": {"type": "array", "items": {"type": "object"}},
            "missing": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "integer"}},
                "description": "Group -> indices of entities the store does not know.",
            },
        },
    },
    "PushRequest": {
        "type": "object",
        "required": ["rows"],
        "properties": {"rows": {"type": "array", "items": {"type": "object"}, "minItems": 1}},
    },
    "PushReport": {
        "type": "object",
        "required": ["group", "received", "applied", "late", "logged", "late_examples"],
        "properties": {
            "group": {"type": "string"},
            "received": {"type": "integer"},
            "applied": {"type": "integer"},
            "late": {
                "type": "integer",
                "description": "Older than the allowed lateness: "
                "logged offline, not applied online.",
            },
            "logged": {"type": "integer"},
            "late_examples": {"type": "array", "items": {"type": "array"}},
        },
    },
}


def feature_paths() -> tuple[dict[str, Any], dict[str, Any]]:
    """The feature routes' paths and schemas."""
    errors = {
        "400": _error("The body is not valid JSON."),
        "404": _error("An unknown group, feature or key column (with a did-you-mean)."),
        "422": _error("A malformed body, or events that do not match the group's source."),
        "503": _error("The online store cannot be reached."),
    }
    paths = {
        "/v1/features/online": {
            "post": {
                "summary": "Read feature values of entities from the online store.",
                "operationId": "onlineFeatures",
                "requestBody": {"required": True, "content": _json(_ref("OnlineRequest"))},
                "responses": {
                    "200": {"description": "Values.", "content": _json(_ref("OnlineResponse"))},
                    **errors,
                },
            }
        },
        "/v1/features/{group}/push": {
            "post": {
                "summary": "Apply events to a group's online state (and its offline log).",
                "operationId": "pushFeatures",
                "parameters": [
                    {"name": "group", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "requestBody": {"required": True, "content": _json(_ref("PushRequest"))},
                "responses": {
                    "200": {"description": "Applied.", "content": _json(_ref("PushReport"))},
                    **errors,
                },
            }
        },
    }
    return paths, FEATURE_SCHEMAS
