"""The OpenAPI description says what the API answers and what it refuses, and it says it right."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient
from tests.factories.records import department, penalty_row
from tests.fixtures.keys import TEST_KEY
from tests.fixtures.sessions import serve_from
from tests.functional.web.test_api_fuzz import OPERATIONS

from xinyong.actors import API_PERMISSIONS
from xinyong.app import create_app
from xinyong.config import Settings
from xinyong.departments import service as departments_service

KEY = [{"departmentKey": []}]
KEY_OR_SESSION = [{"departmentKey": []}, {"consoleSession": []}]
INSTITUTION = [{"institutionKey": []}]
# Per operation: who may call it, and the error answers it declares.
EXPECTED = {
    ("POST", "/api/v1/checks"): (KEY_OR_SESSION, {401, 403, 413, 422}),
    ("POST", "/api/v1/checks/batch"): (KEY_OR_SESSION, {401, 403, 413, 422}),
    ("POST", "/api/v1/checks/batch/file"): (KEY_OR_SESSION, {401, 403, 413, 422}),
    ("GET", "/api/v1/checks/stats"): (KEY_OR_SESSION, {401, 403}),
    ("GET", "/api/v1/checks/{number}"): (KEY_OR_SESSION, {401, 403, 404, 422}),
    ("POST", "/api/v1/checks/{number}/feedback"): (KEY_OR_SESSION, {401, 403, 404, 413, 422}),
    ("POST", "/api/v1/lists/{type_key}/entries"): (KEY, {401, 403, 404, 413, 422}),
    ("GET", "/api/v1/lists/imports/{import_id}/problems.csv"): (KEY, {401, 403, 404, 422}),
    ("POST", "/api/v1/records/{record_type}/batch"): (KEY, {401, 403, 404, 413, 422}),
    ("GET", "/api/v1/batches/{batch_id}"): (KEY, {401, 403, 404, 422}),
    ("GET", "/api/v1/batches/{batch_id}/problems.csv"): (KEY, {401, 403, 404, 422}),
    ("POST", "/api/v1/records/{record_type}/revoke"): (KEY, {401, 403, 404, 409, 413, 422}),
    ("GET", "/api/v1/subjects"): (None, {422, 429}),
    ("GET", "/api/v1/subjects/{code}"): (None, {404, 422, 429}),
    ("GET", "/api/v1/subjects/{code}/records"): (None, {404, 422, 429}),
    ("POST", "/api/v1/reports"): (KEY, {401, 403, 404, 413, 422}),
    ("GET", "/api/v1/changes"): (KEY, {400, 401, 403, 409, 422}),
    ("GET", "/api/v1/extracts/{record_type}"): (KEY, {401, 403, 404, 422}),
    ("GET", "/api/v1/finance/subjects/{code}"): (INSTITUTION, {401, 403, 404, 422}),
    ("GET", "/api/v1/finance/demands"): (INSTITUTION, {401}),
    ("POST", "/api/v1/finance/demands/{demand_id}/take"): (INSTITUTION, {401, 404, 409, 422}),
    ("POST", "/api/v1/finance/demands/{demand_id}/outcome"): (INSTITUTION, {401, 404, 409, 413, 422}),
    ("GET", "/api/v1/finance/whitelist"): (INSTITUTION, {401, 404, 422}),
    ("GET", "/api/v1/finance/whitelist.csv"): (INSTITUTION, {401, 404, 422}),
    ("GET", "/api/v1/scenarios"): (None, set()),
    ("POST", "/api/v1/scenarios/{key}/check"): (KEY, {401, 403, 404, 413, 422}),
}
ERROR = "#/components/schemas/ErrorResponse"


LIMITS = {"api_batch_max_rows": 7, "checks_batch_max_rows": 9, "check_matters": ("政府采购", "招标投标")}


@pytest.fixture
def client(settings, db_session) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    app = create_app(settings.model_copy(update=LIMITS))
    serve_from(app, db_session)
    with TestClient(app) as test_client:
        yield test_client
    app.state.engine.dispose()


@pytest.fixture(scope="module")
def spec(database_url, tmp_path_factory) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The description as served (built once: it takes FastAPI the better part of a second)."""
    app = create_app(Settings(database_url=database_url, secret_key=TEST_KEY,
                              secret_key_file=tmp_path_factory.mktemp("key") / "unused.key", **LIMITS))  # fmt: skip
    with TestClient(app) as test_client:
        response = test_client.get("/api/openapi.json")
    app.state.engine.dispose()
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def key(db_session) -> dict[str, str]:  # type: ignore[no-untyped-def]
    _, token = departments_service.issue_api_key(db_session, department=department(db_session), name="测试系统",
                                                 scopes=sorted(p.value for p in API_PERMISSIONS))  # fmt: skip
    db_session.commit()
    return {"Authorization": f"Bearer {token}"}


def _operation(spec: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    return spec["paths"][path][method.lower()]


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        return {node["$ref"]} if "$ref" in node else {ref for value in node.values() for ref in _refs(value)}
    if isinstance(node, list):
        return {ref for value in node for ref in _refs(value)}
    return set()


def _validator(spec: dict[str, Any], name: str) -> jsonschema_rs.Draft202012Validator:
    """A validator for one component schema, resolving its references within the description."""
    return jsonschema_rs.Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": spec["components"]})


def test_every_operation_of_the_api_is_described_and_fuzzed(spec):
    described = {(method.upper(), path) for path, item in spec["paths"].items() for method in item}
    assert described == set(EXPECTED) == set(OPERATIONS)


@pytest.mark.parametrize(("method", "path"), list(EXPECTED))
def test_each_operation_declares_its_credentials_and_error_answers(spec, method, path):
    security, statuses = EXPECTED[(method, path)]
    operation = _operation(spec, method, path)

    assert operation.get("security") == security
    errors = {int(status) for status in operation["responses"] if status.startswith(("4", "5"))}
    assert errors == statuses
    for status in statuses:
        answer = operation["responses"][str(status)]
        assert answer["description"]
        assert ERROR in _refs(answer["content"]["application/json"]["schema"]), (status, answer)


def test_the_error_schema_and_the_security_schemes(spec):
    assert spec["components"]["schemas"]["ErrorResponse"]["required"] == ["error"]
    assert spec["components"]["schemas"]["ErrorBody"]["required"] == ["code", "message"]
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    assert spec["components"]["securitySchemes"]["departmentKey"] == {
        "type": "http", "scheme": "bearer", "description": spec["components"]["securitySchemes"]["departmentKey"][
            "description"],
    }  # fmt: skip
    assert spec["components"]["securitySchemes"]["consoleSession"]["in"] == "cookie"


def test_the_batch_check_file_upload_declares_its_multipart_form(spec):
    body = _operation(spec, "POST", "/api/v1/checks/batch/file")["requestBody"]

    assert body["required"] is True
    form = body["content"]["multipart/form-data"]["schema"]
    assert form["required"] == ["file", "matter"]
    assert form["properties"]["file"] == {**form["properties"]["file"], "type": "string", "format": "binary"}
    assert form["properties"]["matter"]["enum"] == ["政府采购", "招标投标"]
    assert form["additionalProperties"] is False
    answers = _operation(spec, "POST", "/api/v1/checks/batch/file")["responses"]["200"]["content"]
    assert set(answers) == {"application/json", "text/csv"}


def test_limits_from_the_settings_are_in_the_request_schemas(spec):
    schemas = spec["components"]["schemas"]

    assert schemas["BatchCreate"]["properties"]["rows"]["minItems"] == 1
    assert schemas["BatchCreate"]["properties"]["rows"]["maxItems"] == 7
    assert schemas["EntriesCreate"]["properties"]["rows"]["minItems"] == 1
    assert schemas["EntriesCreate"]["properties"]["rows"]["maxItems"] == 7
    assert schemas["BatchCheckCreate"]["properties"]["items"]["minItems"] == 1
    assert schemas["BatchCheckCreate"]["properties"]["items"]["maxItems"] == 9
    for name in ("CheckCreate", "BatchCheckCreate", "ReportCreate"):
        assert schemas[name]["properties"]["matter"]["enum"] == ["政府采购", "招标投标"]
        assert schemas[name]["properties"]["matter"]["minLength"] == 1


# What the server refuses, the description refuses too: each body is invalid by its schema, and answered 422.
REFUSED = [
    ("POST", "/api/v1/checks", "CheckCreate", {"code": "91330521MA28XXXXX1", "matter": ""}),
    ("POST", "/api/v1/checks", "CheckCreate", {"code": "91330521MA28XXXXX1", "matter": "未配置的事项"}),
    ("POST", "/api/v1/checks", "CheckCreate", {"name": "安吉\x00公司", "matter": "政府采购"}),
    ("POST", "/api/v1/checks/batch", "BatchCheckCreate", {"matter": "政府采购", "items": []}),
    ("POST", "/api/v1/checks/batch", "BatchCheckCreate", {"matter": "政府采购", "items": [{"name": "甲"}] * 10}),
    ("POST", "/api/v1/checks/batch", "BatchCheckCreate", {"matter": "", "items": [{"name": "甲"}]}),
    ("POST", "/api/v1/records/penalty/batch", "BatchCreate", {"rows": []}),
    ("POST", "/api/v1/records/penalty/batch", "BatchCreate", {"rows": [penalty_row()] * 8}),
    ("POST", "/api/v1/records/penalty/batch", "BatchCreate", {"rows": [penalty_row(CF_SY="违法\x00事实")]}),
    ("POST", "/api/v1/records/penalty/batch", "BatchCreate", {"rows": [{**penalty_row(), "备\x00注": "x"}]}),
    ("POST", "/api/v1/records/penalty/revoke", "RevokeCreate", {"doc_no": "安市监罚〔2025〕1号", "reason": "   "}),
    ("POST", "/api/v1/records/penalty/revoke", "RevokeCreate", {"doc_no": "", "reason": "录入错误"}),
    ("POST", "/api/v1/lists/court-dishonest-debtors/entries", "EntriesCreate", {"rows": []}),
    ("POST", "/api/v1/reports", "ReportCreate", {"code": "91330521MA28XXXXX1", "matter": "未配置的事项"}),
    ("POST", "/api/v1/reports", "ReportCreate", {"code": "9133\x0005", "matter": "政府采购"}),
    ("POST", "/api/v1/reports", "ReportCreate", {"code": "91330521MA28XXXXX1", "matter": "政府采购", "kind": "own"}),
]


@pytest.mark.parametrize(("method", "path", "schema", "body"), REFUSED)
def test_what_the_server_refuses_the_schema_refuses(spec, client, key, method, path, schema, body):
    assert not _validator(spec, schema).is_valid(body)

    response = client.request(method, path, json=body, headers=key)

    assert response.status_code == 422, response.text
    assert _validator(spec, "ErrorResponse").is_valid(response.json())
    assert response.json()["error"]["code"] in {"invalid-request", "invalid-input"}


def test_a_text_with_nul_is_refused_by_name_in_the_public_search(client, spec):
    query = next(p for p in _operation(spec, "GET", "/api/v1/subjects")["parameters"] if p["name"] == "q")

    response = client.get("/api/v1/subjects", params={"q": "安吉\x00"})

    assert query["schema"]["pattern"] == "^[^\\x00]*$"
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["location"] == "query.q"


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        ("/api/v1/records/penalty/batch", "application/json", b'{"rows": [{"CF_SY": "\xff\xfe"}]}'),
        ("/api/v1/checks", "application/json", b'{"matter": "\xd5\xfe\xb8\xae"}'),  # GBK, not UTF-8
    ],
)
def test_a_body_that_cannot_be_decoded_is_a_422_with_the_error_shape(client, key, path, content_type, body):
    response = client.post(path, content=body, headers={**key, "content-type": content_type})

    assert response.status_code == 422
    assert response.json() == {"error": {
        "code": "invalid-request", "details": [],
        "message": "请求格式不正确：无法解析请求内容（JSON 须为 UTF-8 编码；表单须为 multipart/form-data）",
    }}  # fmt: skip


def test_a_batch_check_form_with_extra_fields_is_a_422_not_a_400(client, key):
    data = {"matter": "政府采购", **{f"extra{n}": "x" for n in range(6)}}

    response = client.post("/api/v1/checks/batch/file", data=data, headers=key,
                           files={"file": ("a.csv", "名称\n安吉县某公司\n".encode(), "text/csv")})  # fmt: skip

    assert response.status_code == 422
    assert response.json()["error"]["message"] == "输入有误：上传表单无法解析，或字段过多（只接受 file 和 matter 两个字段）"


@pytest.mark.parametrize("batch_id", ["0", str(2**31), str(2**63)])
def test_batch_ids_beyond_the_database_integer_are_refused_not_failed(client, key, batch_id):
    """An id no database column can hold names nothing: 404, as every other path of the platform answers."""
    for path in (f"/api/v1/batches/{batch_id}", f"/api/v1/batches/{batch_id}/problems.csv",
                 f"/api/v1/lists/imports/{batch_id}/problems.csv"):  # fmt: skip
        response = client.get(path, headers=key)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not-found"


def test_an_unknown_batch_check_format_is_refused(client, key):
    response = client.post("/api/v1/checks/batch?format=xml", json={"matter": "政府采购", "items": [{"name": "甲"}]},
                           headers=key)  # fmt: skip

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["location"] == "query.format"
