"""``/v1/query``: one SELECT over the project's lake tables (GET with ``sql=``, or POST)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from analytics_pipeline.query.api_common import ERRORS, instant, lake_complete_field, service_of
from analytics_pipeline.query.lake_views import LakeTableMissing
from analytics_pipeline.query.sql_guard import TABLES, SqlRefused
from analytics_pipeline.web.auth import Credentials
from analytics_pipeline.web.errors import ApiError, ErrorBody, read_json_body

router = APIRouter()

_SQL_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    400: {
        "model": ErrorBody,
        "description": "A statement the service will not run, or one over the time or row limit; "
        "`rule` names which (read_only, single_statement, table, table_function, syntax, "
        "time_limit, row_limit, query).",
    },
    404: {"model": ErrorBody, "description": "A table no ETL run has written yet."},
}


class SqlRequest(BaseModel):
    sql: str = Field(description=f"One SELECT over {', '.join(TABLES)}.")


class SqlAnswerBody(BaseModel):
    columns: list[str]
    rows: list[list[Any]]
    cached: bool = Field(description="Answered from the query cache (Redis query:{hash}, 1 h).")
    elapsedMs: float
    lakeCompleteUpTo: str | None = lake_complete_field()


@router.get("/v1/query", response_model=SqlAnswerBody, responses=_SQL_ERRORS, summary="Run one SELECT")
async def get_query(
    request: Request,
    credentials: Credentials,
    sql: Annotated[str, Query(description=f"One SELECT over {', '.join(TABLES)}.")],
) -> SqlAnswerBody:
    return await _answer(request, credentials, sql)


@router.post(
    "/v1/query",
    response_model=SqlAnswerBody,
    responses=_SQL_ERRORS,
    summary="Run one SELECT (the SQL in a JSON body)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": SqlRequest.model_json_schema()}},
        }
    },
)
async def post_query(request: Request, credentials: Credentials) -> SqlAnswerBody:
    body = await read_json_body(request, 64 * 1024)
    sql = body.get("sql") if isinstance(body, dict) else None
    if not isinstance(sql, str):
        raise ApiError(400, "invalid_body", 'the body must be {"sql": "SELECT ..."}')
    return await _answer(request, credentials, sql)


async def _answer(request: Request, credentials: Any, sql: str) -> SqlAnswerBody:
    service = service_of(request)
    project_id = await service.auth.authenticate(credentials)
    counted = service.metrics.sql
    try:
        answer = await service.sql.answer(project_id, sql)
    except SqlRefused as exc:
        counted.labels(f"refused:{exc.rule}").inc()
        raise ApiError(400, "sql_refused", exc.message, extra={"rule": exc.rule}) from exc
    except LakeTableMissing as exc:
        counted.labels("table_missing").inc()
        raise ApiError(404, "table_missing", str(exc)) from exc
    except ApiError as exc:
        counted.labels("overloaded" if exc.status == 503 else "failed").inc()
        raise
    counted.labels("cached" if answer.cached else "computed").inc()
    if not answer.cached:
        service.metrics.lake_seconds.observe(answer.elapsed_ms / 1000)
    return SqlAnswerBody(
        columns=answer.result.columns,
        rows=answer.result.rows,
        cached=answer.cached,
        elapsedMs=answer.elapsed_ms,
        lakeCompleteUpTo=instant(await service.lake_complete_up_to(project_id)),
    )
