"""``python -m shipyard.serve NAME@ALIAS`` — the server without the CLI (tests, benchmarks)."""

from __future__ import annotations

import argparse
import sys

from shipyard.errors import ShipyardError
from shipyard.project import open_project
from shipyard.serve.server import serve_model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shipyard.serve", description=__doc__)
    parser.add_argument("ref", help="model version: name, name:N or name@alias")
    parser.add_argument("--project", default=None, help="project folder (default: search up)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--log-level", default="warning")
    parser.add_argument(
        "--capture", type=float, default=None, help="percentage of requests captured (0-100)"
    )
    args = parser.parse_args(argv)
    try:
        project = open_project(args.project, face="serve")
        serve_model(
            project,
            args.ref,
            host=args.host,
            port=args.port,
            log_level=args.log_level,
            on_ready=lambda url: print(f"Serving {args.ref} on {url}", flush=True),
            capture=args.capture,
        )
    except ShipyardError as exc:
        print(f"Error: {exc.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
