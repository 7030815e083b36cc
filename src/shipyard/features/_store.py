"""Apply feature definitions to the catalog, and read them back as frozen objects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.entities import DatasetVersion, FeatureDefinition
from shipyard.errors import InvalidInput, NotFound, did_you_mean
from shipyard.features._spec import Entity, FeatureGroup, FeatureSet
from shipyard.features._validate import validate_group

if TYPE_CHECKING:
    from shipyard.project import Project

__all__ = ["ApplyResult", "apply", "get_entity", "get_group", "list_groups", "source_columns"]


@dataclass(frozen=True)
class ApplyResult:
    """What an apply stored: each entity and group, new version (``changed``) or unchanged."""

    entities: tuple[FeatureDefinition, ...]
    groups: tuple[FeatureDefinition, ...]

    @property
    def changed(self) -> tuple[FeatureDefinition, ...]:
        return tuple(d for d in (*self.entities, *self.groups) if d.changed)

    @property
    def unchanged(self) -> tuple[FeatureDefinition, ...]:
        return tuple(d for d in (*self.entities, *self.groups) if not d.changed)


def _entity_dict(entity: Entity) -> dict[str, object]:
    return {"name": entity.name, "keys": list(entity.keys), "description": entity.description}


def get_entity(project: Project, name: str, version: int | None = None) -> Entity:
    """The stored entity ``name`` (latest version when None).

    Raises:
        NotFound: No such entity; the message suggests a close name.
    """
    stored = project.catalog.get_feature_definition("entity", name, version)
    body = dict(stored.definition)
    return Entity(body["name"], tuple(body["keys"]), body.get("description", ""))


def get_group(project: Project, name: str, version: int | None = None) -> FeatureGroup:
    """The stored group ``name`` (latest version when None), its ``version`` set.

    Raises:
        NotFound: No such group or version; the message suggests a close name.
    """
    stored = project.catalog.get_feature_definition("group", name, version)
    return FeatureGroup.from_dict(stored.definition, version=stored.version)


def list_groups(project: Project) -> list[FeatureGroup]:
    """The latest version of every stored group, by name."""
    latest: dict[str, FeatureDefinition] = {}
    for stored in project.catalog.list_feature_definitions("group"):
        latest[stored.name] = stored
    return [FeatureGroup.from_dict(d.definition, version=d.version) for d in latest.values()]


def source_columns(project: Project, group: FeatureGroup) -> tuple[DatasetVersion, dict[str, str]]:
    """The latest version of the group's source dataset and its column types.

    Raises:
        NotFound: The source dataset does not exist (with a did-you-mean).
    """
    try:
        version = project.catalog.get_dataset_version(group.source)
    except NotFound as exc:
        raise NotFound(f"Feature group '{group.name}': {exc.message}") from exc
    return version, {c.name: c.type for c in version.columns}


def _filter_checker(project: Project, version: DatasetVersion) -> object:
    import duckdb

    from shipyard.lake import error_text, quote_literal

    def check(predicate: str, what: str) -> None:
        con = duckdb.connect()
        try:
            con.execute(
                f"CREATE TEMP VIEW source AS SELECT * FROM "
                f"read_parquet('{quote_literal(project.lake.glob(version))}')"
            )
            sql = f"SELECT ({predicate}) AS p FROM source LIMIT 0"
            if len(con.extract_statements(sql)) != 1:
                raise InvalidInput(f"{what[0].upper()}{what[1:]} must be one SQL predicate.")
            kind = str(con.sql(sql).types[0])
        except duckdb.Error as exc:
            raise InvalidInput(
                f"{what[0].upper()}{what[1:]} ({predicate!r}) is not a valid SQL predicate "
                f"over '{version.ref}': {error_text(exc)}"
            ) from exc
        finally:
            con.close()
        if kind != "BOOLEAN":
            raise InvalidInput(
                f"{what[0].upper()}{what[1:]} ({predicate!r}) must be true or false per event; "
                f"it gives {kind}. Write a comparison, e.g. \"record_type = 'data'\"."
            )

    return check


def _entities_for(project: Project, features: FeatureSet) -> dict[str, Entity]:
    known = {e.name: e for e in features.entities}
    for group in features.groups:
        if group.entity in known:
            continue
        try:
            known[group.entity] = get_entity(project, group.entity)
        except NotFound:
            names = {d.name for d in project.catalog.list_feature_definitions("entity")}
            names |= set(known)
            raise NotFound(
                f"Feature group '{group.name}' is about entity '{group.entity}', which is "
                f"neither in the file nor applied.{did_you_mean(group.entity, names)} "
                f"Entities: {', '.join(sorted(names)) or 'none yet'}.",
                details={"entity": group.entity},
            ) from None
    return known


def validate(project: Project, features: FeatureSet) -> None:
    """Check every group of ``features`` against its source; raise the first problem."""
    entities = _entities_for(project, features)
    names = [g.name for g in features.groups]
    for name in names:
        if names.count(name) > 1:
            raise InvalidInput(f"The feature group '{name}' is declared twice.")
    for group in features.groups:
        version, columns = source_columns(project, group)
        validate_group(group, entities[group.entity], columns, _filter_checker(project, version))


def apply(project: Project, features: FeatureSet | str | Path) -> ApplyResult:
    """Validate every group of ``features`` (or of a YAML/Python file), then store a new
    version of each entity and group whose definition changed, all in one transaction.

    Raises:
        NotFound: An unknown entity, source dataset or column (with a did-you-mean).
        InvalidInput: A group its source cannot compute (the message says which and why).
    """
    if not isinstance(features, FeatureSet):
        from shipyard.features._yaml import load_definitions

        features = load_definitions(features)
    validate(project, features)
    items: list[tuple[str, str, object]] = [
        ("entity", e.name, _entity_dict(e)) for e in features.entities
    ]
    items += [("group", g.name, g.to_dict()) for g in features.groups]
    stored: Sequence[FeatureDefinition] = project.catalog.apply_feature_definitions(
        items,  # type: ignore[arg-type]
        actor=project.actor,
    )
    count = len(features.entities)
    return ApplyResult(tuple(stored[:count]), tuple(stored[count:]))
