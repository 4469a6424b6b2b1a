"""The OpenAPI 3.1 document of /api/v1, kept beside the routes it describes (a test checks that every
API route is in it and schemathesis checks every response against it)."""

from __future__ import annotations

from typing import Any

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _ok(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _err(description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": _ref("Error")}}}


ERRORS = {
    "401": _err("No valid token"),
    "404": _err("Not found, or not visible to the caller"),
}
ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
NULLABLE_STR = {"type": ["string", "null"]}


def _path_id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": ID}


def document() -> dict[str, Any]:
    text = {
        "type": "object",
        "required": ["zh", "en"],
        "properties": {"zh": {"type": "string"}, "en": {"type": "string"}},
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "QReady 质评通 API",
            "version": "1",
            "description": (
                "Readiness self-assessments for 品字标 certification and Zhejiang quality awards. "
                "Authenticate with a personal API token: `Authorization: Bearer <token>`. Errors are "
                '`{"error": {"code", "message"}}` in the language of `Accept-Language` (zh or en). '
                "What the caller may not see answers 404. A request carrying text that cannot be stored "
                "(a NUL character or a lone UTF-16 surrogate, anywhere in it) answers 400 `bad_text`, JSON "
                "nested deeper than 32 answers 400 `too_deep`, and a version that is not a whole number "
                "from 0 to 2147483647 answers 400 `bad_version`; nothing of such a request is saved."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"token": []}],
        "paths": {
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": _ok({"type": "object"})},
                }
            },
            "/frameworks": {
                "get": {
                    "summary": "The frameworks (questionnaires) and their versions",
                    "responses": {"200": _ok({"type": "array", "items": _ref("FrameworkSummary")}), **ERRORS},
                }
            },
            "/frameworks/{framework_id}": {
                "get": {
                    "summary": "A whole framework, as `flask frameworks export` prints it; the reference answers"
                    " (`ideal_answer`, `zero_answer`) are as of today, the date drafts are scored as of (`as_of`)",
                    "parameters": [
                        {
                            "name": "framework_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                        {"name": "version", "in": "query", "required": False, "schema": {"type": "string"}},
                    ],
                    "responses": {"200": _ok(_ref("Framework")), **ERRORS},
                }
            },
            "/firms": {
                "get": {
                    "summary": "The firms the caller may see",
                    "responses": {"200": _ok({"type": "array", "items": _ref("Firm")}), **ERRORS},
                }
            },
            "/firms/{firm_id}/assessments": {
                "parameters": [_path_id("firm_id")],
                "get": {
                    "summary": "A firm's assessments",
                    "responses": {"200": _ok({"type": "array", "items": _ref("Assessment")}), **ERRORS},
                },
                "post": {
                    "summary": "Start an assessment (the firm's draft of that framework if one exists)",
                    "requestBody": {
                        "required": True,
                        "content": {JSON: {"schema": _ref("NewAssessment")}},
                    },
                    "responses": {
                        "201": _ok(_ref("Assessment"), "Created"),
                        "200": _ok(_ref("Assessment"), "The existing draft"),
                        "400": _err("Not a JSON object"),
                        "403": _err("The caller's role may not start assessments"),
                        "402": _err(
                            "payment_required: another round of this framework within a year needs a paid plan"
                        ),
                        "422": _err("No such framework or mode"),
                        **ERRORS,
                    },
                },
            },
            "/firms/{firm_id}/actions": {
                "parameters": [_path_id("firm_id")],
                "get": {
                    "summary": "The firm's improvement plan: its actions, soonest due first",
                    "responses": {"200": _ok({"type": "array", "items": _ref("Action")}), **ERRORS},
                },
            },
            "/assessments/{assessment_id}/actions": {
                "parameters": [_path_id("assessment_id")],
                "get": {
                    "summary": "The plan's actions on the assessment's framework",
                    "responses": {"200": _ok({"type": "array", "items": _ref("Action")}), **ERRORS},
                },
            },
            "/assessments/{assessment_id}": {
                "parameters": [_path_id("assessment_id")],
                "get": {
                    "summary": "An assessment with its answers",
                    "responses": {"200": _ok(_ref("AssessmentDetail")), **ERRORS},
                },
            },
            "/assessments/{assessment_id}/answers": {
                "parameters": [_path_id("assessment_id")],
                "patch": {
                    "summary": "Change answers: all or nothing",
                    "description": "An invalid value answers 422 with per-item errors, and nothing from the request is saved.",
                    "requestBody": {"required": True, "content": {JSON: {"schema": _ref("AnswersPatch")}}},
                    "responses": {
                        "200": _ok(_ref("Saved")),
                        "400": _err(
                            "Not a JSON object, text that cannot be stored, or a version out of range"
                        ),
                        "403": _err("The caller's role may not answer"),
                        "409": _err("Submitted already, or changed by someone else since the versions given"),
                        "422": _err("Invalid values; nothing saved"),
                        **ERRORS,
                    },
                },
            },
            "/assessments/{assessment_id}/submit": {
                "parameters": [_path_id("assessment_id")],
                "post": {
                    "summary": "Submit: the assessment becomes read-only",
                    "responses": {
                        "200": _ok(_ref("Assessment")),
                        "403": _err("The caller's role may not submit"),
                        "409": _err("Submitted already"),
                        "422": _err("Required answers, evidence or self-evaluations are missing"),
                        **ERRORS,
                    },
                },
            },
            "/assessments/{assessment_id}/report": {
                "parameters": [_path_id("assessment_id")],
                "get": {
                    "summary": "The improvement report as PDF or HTML",
                    "parameters": [
                        {
                            "name": "format",
                            "in": "query",
                            "required": False,
                            "schema": {"enum": ["pdf", "html"]},
                        },
                        {"name": "lang", "in": "query", "required": False, "schema": {"enum": ["zh", "en"]}},
                    ],
                    "responses": {
                        "200": {
                            "description": "The report",
                            "content": {
                                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                                "text/html": {"schema": {"type": "string"}},
                            },
                        },
                        "402": _err(
                            "payment_required: the PDF needs a paid plan (the HTML report is open to every plan)"
                        ),
                        "422": _err("Unknown format or language"),
                        "503": _err("The report could not be rendered in time"),
                        **ERRORS,
                    },
                },
            },
            "/stats": {
                "get": {
                    "summary": "The regulator statistics of the caller's agency: aggregates of the firms in its"
                    " jurisdiction that agreed to share, one cut at a time; a group of fewer than k firms (5 by"
                    ' default) is "< k", a cell hidden so that no such group follows from the others is'
                    ' "suppressed". The same figures as the dashboard and its exports.',
                    "parameters": [
                        {
                            "name": "cut",
                            "in": "query",
                            "required": False,
                            "description": "One cut, `dimension:value`: `region:<GB/T 2260 code of a city or county"
                            " directly below the jurisdiction>`, `industry:<GB/T 4754 section letter>`,"
                            " `size:large|medium|small|micro|unknown`, `scale:yes|no` (规上); none: all firms",
                            "schema": {"type": "string", "maxLength": 40},
                        },
                        {
                            "name": "agency",
                            "in": "query",
                            "required": False,
                            "description": "The agency's id, for a member of several (default: the first)",
                            "schema": ID,
                        },
                    ],
                    "responses": {
                        "200": _ok(_ref("Stats")),
                        "403": _err("The caller is not a member of a regulator agency"),
                        **ERRORS,
                    },
                },
            },
            "/assessments/{assessment_id}/result": {
                "parameters": [_path_id("assessment_id")],
                "get": {
                    "summary": "The scoring engine's result",
                    "responses": {"200": _ok(_ref("Result")), **ERRORS},
                },
            },
        },
        "components": {
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Text": text,
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                                "items": {"type": "array", "items": {"type": "object"}},
                            },
                        }
                    },
                },
                "Figure": {"type": ["number", "string"], "description": 'a number, "< k" or "suppressed"'},
                "Stats": {
                    "type": "object",
                    "required": [
                        "jurisdiction",
                        "cut",
                        "min_group",
                        "scope",
                        "overview",
                        "quarters",
                        "readiness",
                        "sections",
                        "gaps",
                        "gates",
                        "trend",
                        "plans",
                        "near",
                    ],
                    "properties": {
                        "jurisdiction": {"type": "object"},
                        "cut": {"type": "object"},
                        "min_group": {"type": "integer"},
                        "scope": {"type": "string"},
                        "overview": {"type": "object", "additionalProperties": _ref("Figure")},
                        **{
                            name: {"type": "array", "items": {"type": "object"}}
                            for name in (
                                "quarters",
                                "readiness",
                                "sections",
                                "gaps",
                                "gates",
                                "trend",
                                "plans",
                                "near",
                            )
                        },
                    },
                },
                "FrameworkSummary": {
                    "type": "object",
                    "required": ["id", "version", "title", "items"],
                    "properties": {
                        "id": {"type": "string"},
                        "version": {"type": "string"},
                        "status": {"type": "string"},
                        "title": _ref("Text"),
                        "items": {"type": "integer"},
                    },
                },
                "Framework": {
                    "type": "object",
                    "required": ["id", "version", "title", "sections"],
                    "properties": {
                        "id": {"type": "string"},
                        "version": {"type": "string"},
                        "title": _ref("Text"),
                        "sections": {"type": "array", "items": {"type": "object"}},
                    },
                },
                "Firm": {
                    "type": "object",
                    "required": ["id", "name", "credit_code", "region", "industry"],
                    "properties": {
                        "id": ID,
                        "name": {"type": "string"},
                        "credit_code": {"type": "string"},
                        "region": {"type": "string"},
                        "industry": {"type": "string"},
                        "size_class": NULLABLE_STR,
                        "above_scale": {"type": "boolean"},
                        "founded_on": NULLABLE_STR,
                    },
                },
                "NewAssessment": {
                    "type": "object",
                    "required": ["framework"],
                    "properties": {"framework": {"type": "string"}, "mode": {"type": "string"}},
                },
                "Assessment": {
                    "type": "object",
                    "required": ["id", "framework", "version", "status", "updated_at"],
                    "properties": {
                        "id": ID,
                        "firm_id": ID,
                        "framework": {"type": "string"},
                        "version": {"type": "string"},
                        "mode": {"type": "string"},
                        "status": {"enum": ["draft", "submitted"]},
                        "round": {"type": "integer"},
                        "previous_id": {"type": ["integer", "null"]},
                        "created_at": {"type": "string"},
                        "updated_at": {"type": "string"},
                        "submitted_at": NULLABLE_STR,
                        "summary": {"type": ["object", "null"]},
                    },
                },
                "Action": {
                    "type": "object",
                    "required": ["id", "firm_id", "title", "items", "targets", "status"],
                    "properties": {
                        "id": ID,
                        "firm_id": ID,
                        "assessment_id": {"type": ["integer", "null"]},
                        "framework": NULLABLE_STR,
                        "title": {"type": "string"},
                        "items": {"type": "array", "items": {"type": "string"}},
                        "targets": {"type": "array", "items": {"type": "string"}},
                        "owner_id": {"type": ["integer", "null"]},
                        "owner": NULLABLE_STR,
                        "due_on": {"type": ["string", "null"], "format": "date"},
                        "status": {"enum": ["open", "in_progress", "done", "dropped"]},
                        "notes": NULLABLE_STR,
                        "done_at": NULLABLE_STR,
                    },
                },
                "AssessmentDetail": {
                    "allOf": [
                        _ref("Assessment"),
                        {
                            "type": "object",
                            "required": ["answers"],
                            "properties": {"answers": {"type": "object"}},
                        },
                    ]
                },
                "AnswersPatch": {
                    "type": "object",
                    "properties": {
                        "answers": {"type": "object", "description": "item id -> value"},
                        "na": {
                            "type": "object",
                            "description": "item id -> justification, or null to withdraw",
                        },
                        "narratives": {"type": "object", "description": "item id -> written self-evaluation"},
                        "versions": {
                            "type": "object",
                            "description": "item id -> the version the caller read (optional; a stale one answers 409)",
                        },
                    },
                },
                "Saved": {
                    "type": "object",
                    "required": ["saved"],
                    "properties": {"saved": {"type": "object"}, "summary": {"type": ["object", "null"]}},
                },
                "TargetResult": {
                    "type": "object",
                    "description": (
                        "A target's verdict. `not_applicable` (reason `outside_region`): the target is for "
                        "firms registered elsewhere; it has no blockers and no path, and is not a failure. "
                        "`region`: the places the target is for, GB/T 2260 code prefixes (3301 Hangzhou, 3306 "
                        "Shaoxing, 33 Zhejiang; empty: everywhere), declared by the framework. In a screening mode "
                        "(the quick mode of an award framework) the readiness is a screening band, "
                        "`worth_full_evaluation` or `not_yet`, never a verdict. `rule`: where the threshold "
                        "comes from, a document (`document`, `issuer`, `date`, `in_force_from`, `in_force_to`, "
                        "`unconfirmed`) or a QReady `assumption` with its reason."
                    ),
                    "required": [
                        "id",
                        "readiness",
                        "reason",
                        "region",
                        "score",
                        "threshold",
                        "blocking",
                        "rule",
                    ],
                    "properties": {
                        "id": {"type": "string"},
                        "readiness": {
                            "enum": [
                                "ready",
                                "near",
                                "not_ready",
                                "not_applicable",
                                "worth_full_evaluation",
                                "not_yet",
                            ]
                        },
                        "rule": {"type": ["object", "null"]},
                        "reason": {"enum": ["outside_region", None]},
                        "region": {"type": "array", "items": {"type": "string", "pattern": "^[0-9]{2,6}$"}},
                        "score": {"type": "number"},
                        "threshold": {"type": "number"},
                        "blocking": {"type": "array", "items": {"type": "object"}},
                    },
                },
                "GateResult": {
                    "type": "object",
                    "description": (
                        "An eligibility condition. `not_applicable` (reason `outside_region`): only targets "
                        "for firms registered elsewhere have it."
                    ),
                    "required": ["id", "status", "item", "profile", "reason", "sources"],
                    "properties": {
                        "id": {"type": "string"},
                        "status": {"enum": ["pass", "fail", "unknown", "not_applicable"]},
                        "item": NULLABLE_STR,
                        "profile": NULLABLE_STR,
                        "reason": {
                            "enum": [
                                "answer",
                                "profile",
                                "not_applicable",
                                "unanswered",
                                "profile_missing",
                                "outside_region",
                                "exempt",
                            ]
                        },
                        "sources": {"type": "array", "items": {"type": "object"}},
                        "rule": {"type": ["object", "null"], "description": "where the condition comes from"},
                    },
                },
                "Result": {
                    "type": "object",
                    "required": [
                        "framework",
                        "version",
                        "points",
                        "max_points",
                        "percent",
                        "sections",
                        "gates",
                        "targets",
                        "gaps",
                        "path_to_ready",
                        "unanswered",
                        "confidence",
                    ],
                    "properties": {
                        "framework": {"type": "string"},
                        "version": {"type": "string"},
                        "points": {"type": "number"},
                        "max_points": {"type": "number"},
                        "percent": {"type": "number"},
                        "screening": {
                            "type": "boolean",
                            "description": "a screening mode: targets get a screening band, never a verdict",
                        },
                        "self_assessed": {
                            "allOf": [_ref("Text")],
                            "description": "a self-assessed score is not a reviewer's score",
                        },
                        "sections": {"type": "array", "items": {"type": "object"}},
                        "gates": {"type": "array", "items": _ref("GateResult")},
                        "targets": {"type": "array", "items": _ref("TargetResult")},
                        "gaps": {"type": "array", "items": {"type": "object"}},
                        "path_to_ready": {"type": "object"},
                        "unanswered": {"type": "array", "items": {"type": "string"}},
                        "confidence": {"type": "object"},
                    },
                },
            },
        },
    }
