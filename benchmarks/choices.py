"""The measured effect of each performance choice, in one process (docs/performance.md).

* YAML: ruamel.yaml's composer against compose_net.fastyaml (libyaml through PyYAML),
  both through ``yamltree.compose``, over the corpus and on a generated big file;
* schema: jsonschema against compose_net.fastschema deciding valid/invalid, over the
  corpus documents (jsonschema-rs too when it is installed, on documents without the
  marker strings it cannot take);
* imports: each library's import, as a ratio to ``python -c pass`` (paired runs);
* garbage collection: ``harden_text`` on the big file with the cyclic collector on
  and off (the CLI turns it off while a command runs).

Figures are the best of several rounds (in-process) or medians of paired ratios.

Usage: python benchmarks/choices.py [--short] [--corpus DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib.util
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import CORPUS, big_file, corpus_files  # noqa: E402

from compose_net import document, harden, resolvers, schema, source, yamltree  # noqa: E402
from compose_net.errors import ComposeNetError  # noqa: E402


def best(fn: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def parse_all(texts: list[str], parser: yamltree.Parser) -> None:
    for text in texts:
        with contextlib.suppress(ComposeNetError):  # the few that are not YAML count too
            yamltree.compose(text, "f.yml", parser=parser)


def yaml_choice(texts: list[str], big: str, rounds: int) -> None:
    size = sum(len(t.encode()) for t in texts)
    print(f"YAML, {len(texts)} corpus files ({size / 1e6:.2f} MB), through yamltree.compose:")
    per = {}
    for parser in ("ruamel", "fast"):
        seconds = best(lambda p=parser: parse_all(texts, p), rounds)
        per[parser] = seconds
        rate = size / seconds / 1e6
        print(f"  {parser:7s} {seconds / len(texts) * 1e6:8.0f} us/file  {rate:6.2f} MB/s")
    print(f"  libyaml composer: {per['ruamel'] / per['fast']:.0f}x faster")
    print(f"YAML, one generated file of {len(big.encode()) / 1e6:.2f} MB:")
    for parser in ("ruamel", "fast"):
        seconds = best(lambda p=parser: yamltree.compose(big, "big.yml", parser=p), 1)
        print(f"  {parser:7s} {seconds * 1000:8.0f} ms")


def schema_choice(texts: list[str], rounds: int) -> None:
    docs = []
    for text in texts:
        try:
            doc = document.load(source.Source("f.yml", text, False))
        except ComposeNetError:
            continue
        docs.append(schema.interpolated(schema.document_data(doc.root), {}))
    decide, validator = schema._decider("compose"), schema._validator("compose")
    assert decide is not None
    print(f"schema, {len(docs)} corpus documents (compose target):")
    candidates: list[tuple[str, Callable[[Any], object], list[Any]]] = [
        ("jsonschema", lambda d: not any(True for _ in validator.iter_errors(d)), docs),
        ("fastschema", decide, docs),
    ]
    if importlib.util.find_spec("jsonschema_rs") is not None:
        candidates.append(_jsonschema_rs(docs))
    for name, fn, values in candidates:
        seconds = best(lambda f=fn, v=values: [f(d) for d in v], rounds)
        print(f"  {name:13s} {seconds / len(values) * 1e6:8.1f} us/document ({len(values)})")


def _jsonschema_rs(docs: list[Any]) -> tuple[str, Callable[[Any], object], list[Any]]:
    import jsonschema_rs

    class Check:
        def __init__(self, parent: Any, kind: str, path: Any) -> None:
            self.kind = kind

        def validate(self, instance: Any) -> None:
            if isinstance(instance, str) and schema._CHECKS[self.kind](instance):
                raise ValueError(self.kind)

    compiled = schema._compile(schema.load_schema("compose"))
    start = time.perf_counter()
    validator = jsonschema_rs.validator_for(
        compiled, keywords={"composeNetCheck": Check}, validate_formats=True,
        formats={"compose-variable": lambda value: not isinstance(value, str)},
    )
    print(f"  (jsonschema-rs compiles the schema in {(time.perf_counter() - start) * 1000:.1f} ms)")
    plain = [d for d in docs if not schema._has_bad_template(d) and not _marked(d)]
    return "jsonschema-rs", validator.is_valid, plain


def _marked(data: Any) -> bool:
    if isinstance(data, dict):
        return any(_marked(v) for v in data.values())
    if isinstance(data, list):
        return any(_marked(v) for v in data)
    return type(data) in (schema.Unresolved, schema.BadTemplate)


def import_choice(runs: int) -> None:
    print(f"imports, ratio to python -c pass (median of {runs} paired runs):")
    modules = ["click", "yaml", "ruamel.yaml", "jsonschema", "compose_net.fastyaml",
               "compose_net.cli"]
    if importlib.util.find_spec("jsonschema_rs") is not None:
        modules.append("jsonschema_rs")
    if importlib.util.find_spec("docker") is not None:
        modules.append("docker")
    for module in modules:
        ratios = []
        for _ in range(runs):
            base = _timed([sys.executable, "-c", "pass"])
            ratios.append(_timed([sys.executable, "-c", f"import {module}"]) / base)
        print(f"  import {module:22s} {statistics.median(ratios):5.2f}x")


def _timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, cwd=ROOT)
    return time.perf_counter() - start


def gc_choice(big: str) -> None:
    src = source.Source("big.yml", big, False)
    binds = resolvers.static(harden.Binds(ipv4="10.0.0.5"))
    print("harden_text on the generated file, cyclic garbage collector on and off:")
    for enabled in (True, False):
        gc.collect()
        (gc.enable if enabled else gc.disable)()
        seconds = best(lambda: harden.harden_text(src, binds), 1)
        print(f"  collector {'on ' if enabled else 'off'} {seconds * 1000:8.0f} ms")
    gc.enable()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="100 files, 200 services, 1 round")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args(argv)
    if not (args.corpus / "MANIFEST.tsv").is_file():
        print(f"choices: cannot run: no corpus at {args.corpus}", file=sys.stderr)
        return 2
    files = corpus_files(args.corpus)[: 100 if args.short else None]
    texts = [source.read(str(f)).text for f in files]
    rounds = 1 if args.short else 5
    big = big_file(200 if args.short else 2000)
    yaml_choice(texts, big, rounds)
    schema_choice(texts, rounds)
    import_choice(3 if args.short else 11)
    gc_choice(big)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
