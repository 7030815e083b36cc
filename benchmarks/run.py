"""Run every benchmark in this folder, one after the other (``make bench``).

    .venv/bin/python benchmarks/run.py [ingest serve multimodel profile drift automl]

``automl`` (nine datasets x four systems at a 60 s budget) takes about 45 minutes; run
``benchmarks/automl.py`` itself for its options (budget, datasets, systems, --resume).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
ORDER = ("ingest", "serve", "multimodel", "profile", "drift", "automl")


def main(names: list[str]) -> int:
    chosen = names or [n for n in ORDER if (HERE / f"{n}.py").exists()]
    failed = []
    for name in chosen:
        print(f"\n=== benchmarks/{name}.py ===", flush=True)
        if subprocess.call([sys.executable, str(HERE / f"{name}.py")]) != 0:
            failed.append(name)
    if failed:
        print(f"\nFailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
