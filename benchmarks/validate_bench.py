"""How long schema validation takes on a large Compose file.

Generates a file of 2,000 services (each with an image, environment, two ports
in short and long syntax, a volume, labels, a healthcheck, deploy limits and
networks), then times, per file:

* parsing it (YAML to nodes),
* the first validation (which also imports jsonschema and compiles the validator),
* ``schema.check_document`` (data conversion, interpolation, validation, positions),
* ``schema.validate`` alone, on data already interpolated,

and, as references measured in the same run on the same machine, ``copy.deepcopy``
of the same data (a pure-Python pass over every node) and ``json.loads`` of it
serialised as JSON. The ratios make runs on different machines comparable.
Times are CPU seconds of this process (wall time on a busy machine measures the
machine), best of the repeats.

Usage: python benchmarks/validate_bench.py [--short] [--services N] [--repeat N]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from compose_net import document, schema, source


def generate(services: int) -> str:
    """A valid Compose file with ``services`` services."""
    lines = ["name: bench", "services:"]
    for i in range(services):
        lines += [
            f"  svc{i}:",
            f"    image: registry.example.com/team/app{i}:1.{i % 50}",
            "    restart: unless-stopped",
            "    environment:",
            f"      APP_ID: '{i}'",
            "      DB_URL: ${DB_URL:-postgres://db/app}",
            "    ports:",
            f'      - "127.0.0.1:{10000 + i}:80"',
            "      - target: 443",
            f"        published: {20000 + i}",
            "        host_ip: 10.0.0.5",
            "    volumes:",
            f"      - data{i}:/var/lib/app",
            "    labels:",
            f'      com.example.service: "svc{i}"',
            "    healthcheck:",
            "      test: [CMD, curl, -f, http://localhost/health]",
            "      interval: 30s",
            "      retries: 3",
            "    deploy:",
            "      resources:",
            "        limits: {cpus: '0.5', memory: 512M}",
            "    networks: [front, back]",
        ]
    lines += ["networks:", "  front: {}", "  back: {}", "volumes:"]
    lines += [f"  data{i}: {{}}" for i in range(services)]
    return "\n".join(lines) + "\n"


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    """CPU seconds of each run."""
    out = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        out.append(time.process_time() - start)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--short", action="store_true", help="200 services, 3 repeats (a quick check)"
    )
    parser.add_argument("--services", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=None)
    args = parser.parse_args(argv)
    services = args.services or (200 if args.short else 2000)
    repeat = args.repeat or (3 if args.short else 7)

    text = generate(services)
    src = source.Source("bench.yml", text, False)
    parse = timed(lambda: document.load(src), 1)[0]
    doc = document.load(src)

    first = timed(lambda: schema.check_document(doc, target="compose", env={}), 1)[0]
    errors = schema.check_document(doc, target="compose", env={})
    if errors:
        print(f"the generated file is invalid: {errors[0]}", file=sys.stderr)
        return 1
    checks = timed(lambda: schema.check_document(doc, target="compose", env={}), repeat)
    data = schema.interpolated(schema.document_data(doc.root), {})
    validates = timed(lambda: schema.validate(data, target="compose"), repeat)
    as_json = json.dumps(data)
    loads = timed(lambda: json.loads(as_json), repeat)
    deepcopy = timed(lambda: copy.deepcopy(data), repeat)

    best = min(checks)
    print(f"file: {services} services, {len(text):,} bytes, {text.count(chr(10)):,} lines")
    print("CPU time, best of", repeat)
    print(f"  parse (YAML to nodes, once)       {parse * 1000:8.1f} ms")
    print(f"  first validation (+ compile)      {first * 1000:8.1f} ms")
    print(f"  check_document (per file)         {best * 1000:8.1f} ms  "
          f"(median {statistics.median(checks) * 1000:.1f} ms)")
    print(f"  validate only                     {min(validates) * 1000:8.1f} ms")
    print(f"  reference copy.deepcopy           {min(deepcopy) * 1000:8.1f} ms")
    print(f"  reference json.loads              {min(loads) * 1000:8.1f} ms")
    print(f"check_document / deepcopy           {best / min(deepcopy):8.1f}x")
    print(f"check_document / json.loads         {best / min(loads):8.1f}x")
    print(f"per service                         {best / services * 1e6:8.1f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
