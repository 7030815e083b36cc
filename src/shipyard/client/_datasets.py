"""Datasets, their reports and SQL, through the REST API (``server/api/datasets.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipyard.client._decode import decode
from shipyard.client._http import HttpBase, segment
from shipyard.entities import DatasetVersion

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["DatasetsMixin", "RemoteReport"]


@dataclass(frozen=True)
class RemoteReport:
    """A report the server stored: its content, and the API path of its HTML page."""

    subject: str
    kind: str
    payload: dict[str, Any]
    html_path: str | None
    reused: bool = False


def _rows_table(answer: dict[str, Any]) -> pa.Table:
    import pyarrow as pa

    names = [c["name"] for c in answer["columns"]]
    columns = list(zip(*answer["rows"], strict=True)) if answer["rows"] else [()] * len(names)
    return pa.table(
        {name: pa.array(list(values)) for name, values in zip(names, columns, strict=True)}
    )


class DatasetsMixin(HttpBase):
    def _version_path(self, ref: str) -> tuple[str, DatasetVersion]:
        version = self.get_dataset_version_ref(ref)
        return f"/datasets/{segment(version.name)}/versions/{version.version}", version

    def list_datasets(self) -> list[DatasetVersion]:
        """The latest version of each dataset, by name."""
        return [decode(DatasetVersion, v) for v in self._walk("/datasets")]

    def list_dataset_versions(self, name: str | None = None) -> list[DatasetVersion]:
        """Every version of ``name`` (or of every dataset), by name then version."""
        names = [name] if name is not None else [v.name for v in self.list_datasets()]
        out = []
        for each in names:
            path = f"/datasets/{segment(each)}/versions"
            out += [decode(DatasetVersion, v) for v in self._walk(path, order="asc")]
        return out

    def get_dataset_version(self, name: str, version: int | None = None) -> DatasetVersion:
        """The given version of ``name``, or its latest."""
        path = f"/datasets/{segment(name)}" + (f"/versions/{version}" if version else "")
        result: DatasetVersion = decode(DatasetVersion, self._get(path))
        return result

    def get_dataset_version_ref(self, ref: str) -> DatasetVersion:
        """The version ``NAME`` or ``NAME@N`` names."""
        from shipyard.catalog.refs import parse_dataset_ref

        parsed = parse_dataset_ref(ref)
        return self.get_dataset_version(parsed.name, parsed.version)

    def dataset_sample(self, ref: str, rows: int = 20) -> pa.Table:
        """The first ``rows`` rows of a version."""
        path, _ = self._version_path(ref)
        return _rows_table(self._get(f"{path}/sample", rows=rows))

    def query(self, sql: str, limit: int = 1000) -> pa.Table:
        """The result of one read-only query over the datasets, at most ``limit`` rows (the
        server caps it at SHIPYARD_SERVER_MAX_SQL_ROWS)."""
        return _rows_table(self._post("/sql", {"query": sql, "limit": max(limit, 1)}))

    def list_reports(self, ref: str) -> list[dict[str, Any]]:
        """The reports stored about a version: kind, author, time, HTML path."""
        path, _ = self._version_path(ref)
        reports: list[dict[str, Any]] = self._get(f"{path}/reports")
        return reports

    def get_report(self, ref: str, kind: str) -> dict[str, Any]:
        """A stored report's content."""
        path, _ = self._version_path(ref)
        report: dict[str, Any] = self._get(f"{path}/reports/{segment(kind)}")
        return report

    def report_html(self, ref: str, kind: str) -> bytes:
        """A stored report's HTML page."""
        path, _ = self._version_path(ref)
        return self._bytes(f"{path}/reports/{segment(kind)}/html")

    def _stored(self, ref: str, action: str, body: dict[str, Any]) -> RemoteReport:
        path, _ = self._version_path(ref)
        answer = self._post(f"{path}/{action}", body)
        html = f"{path}/reports/{segment(answer['kind'])}/html" if action != "check" else None
        return RemoteReport(
            answer["dataset"], answer["kind"], answer["report"], html, answer.get("reused", False)
        )

    def profile(
        self,
        ref: str,
        *,
        target: str | None = None,
        label_time: str | None = None,
        refresh: bool = False,
    ) -> RemoteReport:
        """Profile a version on the server (or get its stored profile)."""
        body = {"target": target, "label_time": label_time, "refresh": refresh}
        return self._stored(ref, "profile", body)

    def check(
        self, ref: str, *, against: str | None = None, constraints: str | None = None
    ) -> RemoteReport:
        """Check a version against rules (YAML text) or rules inferred from ``against``."""
        return self._stored(ref, "check", {"against": against, "constraints": constraints})

    def bias(self, ref: str, **options: Any) -> RemoteReport:
        """Pre-training bias of a version (label, positive, facet, facet_values, threshold,
        group)."""
        return self._stored(ref, "bias", options)
