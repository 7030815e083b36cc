"""SQL over every dataset: one read-only query, a row limit; a query that writes is refused."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from shipyard.server._deps import ProjectDep
from shipyard.server._routing import needs
from shipyard.server.api.datasets import Rows, table_rows

router = APIRouter(tags=["sql"])


class SqlBody(BaseModel):
    query: str = Field(
        min_length=1,
        max_length=100_000,
        description='One read-only SELECT; NAME is a dataset\'s latest version, "NAME@N" '
        "version N, capture_MODEL a model's captured requests.",
    )
    limit: int = Field(1000, ge=1, description="Most rows to return (capped by the server).")


@router.post("/sql", **needs("read"))
def run_sql(project: ProjectDep, body: SqlBody) -> Rows:
    """Run one read-only query over the datasets, as `shipyard sql` does: the lake's guard
    refuses anything that writes (INSERT, COPY, ATTACH, a writing CTE, ...) with a 422, and
    the sandbox reads no file outside the lake."""
    from shipyard.lake import query

    limit = min(body.limit, project.settings.server_max_sql_rows)
    return table_rows(query(project, body.query, limit=limit + 1), limit)
