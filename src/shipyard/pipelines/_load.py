"""Finding a pipeline by what a user typed: a file (``.yaml``, ``.yml``, ``.py``, or
``file.py:NAME``), or a name: ``pipelines/NAME.yaml`` (or ``.py``) in the project, the file
it was last registered from, or one shipped with Shipyard (``roaming``)."""

from __future__ import annotations

from pathlib import Path

from shipyard.entities import PipelineDefinition
from shipyard.errors import InvalidInput, NotFound, did_you_mean
from shipyard.pipelines._modules import load_file
from shipyard.pipelines._python import PipelineFunction
from shipyard.pipelines._spec import PipelineSpec
from shipyard.pipelines._yaml import load_yaml
from shipyard.project import Project

__all__ = ["BUILTIN_DIR", "builtin_names", "load_named", "load_spec"]

BUILTIN_DIR = Path(__file__).parent / "builtin"
_SUFFIXES = (".yaml", ".yml", ".py")


def builtin_names() -> list[str]:
    """The pipelines shipped with Shipyard."""
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.yaml"))


def load_spec(project: Project, target: str) -> PipelineSpec:
    """The pipeline ``target`` names (a file or a name; see the module's docstring).

    Raises:
        NotFound: No such file or pipeline; the message says where it looked.
        InvalidInput: The file is not a valid pipeline.
    """
    path_text, _, member = target.partition(".py:")
    if member:
        return load_file_spec(Path(path_text + ".py"), member)
    path = Path(target).expanduser()
    if path.suffix in _SUFFIXES or path.is_file():
        if not path.is_absolute() and not path.exists() and (project.root / path).exists():
            path = project.root / path
        return load_file_spec(path, None)
    return load_named(project, target)


def load_named(project: Project, target: str) -> PipelineSpec:
    """The pipeline called ``target``, never a file a caller names: ``pipelines/NAME`` in
    the project, the file it was last registered from, or one shipped with Shipyard.

    Raises:
        NotFound: No pipeline has that name (a close one is suggested).
        InvalidInput: Its file is not a valid pipeline.
    """
    for candidate in _by_name(project, target):
        if candidate.is_file():
            spec = load_file_spec(candidate, target if candidate.suffix == ".py" else None)
            if spec.name == target:
                return spec
    registered = _registered(project, target)
    if registered is not None:
        where = f"from {registered.source}, which is gone" if registered.source else "from Python"
        raise NotFound(
            f"Pipeline {target!r} is registered (v{registered.version}, {where}), but no file "
            f"defines it now: put it in {project.root / 'pipelines'} or run it from its file.",
            details={"pipeline": target, "source": registered.source},
        )
    known = [*_project_names(project), *builtin_names()]
    known += [p.name for p in project.catalog.list_pipelines()]
    raise NotFound(
        f"No pipeline named {target!r}: not a file, not in {project.root / 'pipelines'}, not "
        f"registered and not shipped with Shipyard.{did_you_mean(target, known)} "
        "See `shipyard pipelines list`.",
        details={"pipeline": target},
    )


def load_file_spec(path: Path, name: str | None) -> PipelineSpec:
    """The pipeline in a YAML file, or the one (or the one called ``name``) in a Python file.

    Raises:
        NotFound: No such file, or no such pipeline in it.
        InvalidInput: The file is not a valid pipeline, or holds several and none was named.
    """
    if not path.is_file():
        raise NotFound(f"No pipeline file at {path}.")
    if path.suffix != ".py":
        return load_yaml(path)
    module = load_file(path)
    found = {v.name: v for v in vars(module).values() if isinstance(v, PipelineFunction)}
    if name is not None and name in found:
        return found[name].spec(str(path.resolve()))
    if name is None and len(found) == 1:
        return next(iter(found.values())).spec(str(path.resolve()))
    if not found:
        raise NotFound(f"{path} defines no pipeline: mark a function with @pipeline.")
    if name is not None:
        raise NotFound(
            f"{path} has no pipeline {name!r}.{did_you_mean(name, found)} "
            f"Its pipelines: {', '.join(found)}."
        )
    raise InvalidInput(
        f"{path} defines several pipelines ({', '.join(found)}); name one as {path}:NAME."
    )


def _registered(project: Project, name: str) -> PipelineDefinition | None:
    try:
        return project.catalog.get_pipeline(name)
    except NotFound:
        return None


def _by_name(project: Project, name: str) -> list[Path]:
    folder = project.root / "pipelines"
    found = [folder / f"{name}{suffix}" for suffix in _SUFFIXES]
    registered = _registered(project, name)
    if registered is not None and registered.source:
        found.append(Path(registered.source))
    found.append(BUILTIN_DIR / f"{name}.yaml")
    return found


def _project_names(project: Project) -> list[str]:
    folder = project.root / "pipelines"
    return [p.stem for p in folder.glob("*") if p.suffix in _SUFFIXES] if folder.is_dir() else []
