"""A lineage graph laid out for an inline SVG: columns by depth (sources on the left), no
JavaScript, every node a link where Studio has a page for it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["Box", "Drawing", "Wire", "layout"]

WIDTH = 190
HEIGHT = 50
GAP_X = 70
GAP_Y = 18
PAD = 10


@dataclass(frozen=True)
class Box:
    id: str
    type: str
    label: str
    href: str | None
    x: int
    y: int
    width: int = WIDTH
    height: int = HEIGHT


@dataclass(frozen=True)
class Wire:
    path: str


@dataclass(frozen=True)
class Drawing:
    boxes: list[Box]
    wires: list[Wire]
    width: int
    height: int


def layout(
    nodes: Sequence[tuple[str, str, str]],
    edges: Sequence[tuple[str, str]],
    href: Callable[[str, str], str | None],
) -> Drawing:
    """Place ``nodes`` (id, type, label) in columns by their longest path from a source
    along ``edges`` (source id, target id); ``href(type, ref)`` links a node (or None)."""
    ids = [n[0] for n in nodes]
    depth = dict.fromkeys(ids, 0)
    for _ in ids:  # longest path; a DAG settles within len(ids) rounds
        changed = False
        for source, target in edges:
            if source in depth and target in depth and depth[target] < depth[source] + 1:
                depth[target] = depth[source] + 1
                changed = True
        if not changed:
            break
    rows: dict[int, int] = {}
    boxes: dict[str, Box] = {}
    for node_id, kind, label in nodes:
        column = depth[node_id]
        row = rows.get(column, 0)
        rows[column] = row + 1
        x = PAD + column * (WIDTH + GAP_X)
        y = PAD + row * (HEIGHT + GAP_Y)
        boxes[node_id] = Box(node_id, kind, label, href(kind, node_id), x, y)
    wires = []
    for source, target in edges:
        if source in boxes and target in boxes:
            a, b = boxes[source], boxes[target]
            x1, y1 = a.x + a.width, a.y + a.height // 2
            x2, y2 = b.x - 6, b.y + b.height // 2
            mid = (x1 + x2) // 2
            wires.append(Wire(f"M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}"))
    columns = max(depth.values(), default=0) + 1
    height = max(rows.values(), default=1) * (HEIGHT + GAP_Y) - GAP_Y + 2 * PAD
    width = columns * (WIDTH + GAP_X) - GAP_X + 2 * PAD
    return Drawing(list(boxes.values()), wires, width, height)
