"""What a user step receives for a ``dataset``, ``model`` or ``report`` input, and may return
for such an output: small handles on a version, read only when the step asks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shipyard.catalog.refs import parse_dataset_ref, parse_model_ref

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from shipyard.entities import DatasetVersion, ModelVersion
    from shipyard.model import TabularModel
    from shipyard.project import Project

__all__ = ["Dataset", "Model", "Report"]


@dataclass(frozen=True)
class Dataset:
    """A dataset version (``ref`` is ``name@N``) a step reads or made."""

    ref: str
    project: Project | None = field(default=None, repr=False, compare=False)

    @property
    def version(self) -> DatasetVersion:
        """The catalog's record of the version (schema, rows, fingerprint)."""
        ref = parse_dataset_ref(self.ref)
        return self._project().catalog.get_dataset_version(ref.name, ref.version)

    def to_pandas(self) -> pd.DataFrame:
        """Its rows as a DataFrame."""
        return self._project().lake.read_frame(self.version)

    def to_arrow(self) -> pa.Table:
        """Its rows as an Arrow table."""
        import pyarrow.parquet as pq

        project = self._project()
        return pq.read_table(project.lake.files(self.version))

    def _project(self) -> Project:
        if self.project is None:
            raise RuntimeError(f"Dataset {self.ref} is not bound to a project")
        return self.project


@dataclass(frozen=True)
class Model:
    """A model version (``ref`` is ``name:N``) a step reads or made."""

    ref: str
    project: Project | None = field(default=None, repr=False, compare=False)

    @property
    def version(self) -> ModelVersion:
        from shipyard.registry import resolve_model

        parse_model_ref(self.ref)
        return resolve_model(self._project(), self.ref)

    def load(self) -> TabularModel:
        """The verified, unpickled model, ready to score."""
        from shipyard.registry import load_model

        return load_model(self._project(), self.ref).model

    def _project(self) -> Project:
        if self.project is None:
            raise RuntimeError(f"Model {self.ref} is not bound to a project")
        return self.project


@dataclass(frozen=True)
class Report:
    """A report a step made: its JSON ``payload`` (and an HTML page, optional). As an input,
    ``subject`` and ``kind`` find it in the catalog."""

    payload: dict[str, Any] = field(default_factory=dict)
    html: str | None = None
    subject: str | None = None
    kind: str | None = None
