"""The fleet's exposure as Prometheus metrics, through prometheus-client.

``audit --format openmetrics`` writes them once (the Prometheus text format that
node_exporter's textfile collector reads); ``audit --watch --metrics-listen`` serves them on
``/metrics`` while it watches. The library writes every sample and escapes the label values;
the values are names the engines report (containers, services, stacks, nodes) and addresses,
never an environment value. prometheus-client is imported only here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from compose_net.errors import ComposeNetError
from compose_net.live.exposures import NodeReport

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric
    from prometheus_client.registry import CollectorRegistry

PREFIX = "compose_net"
BINDING_LABELS = ("node", "container", "service", "stack", "address", "port", "protocol",
                  "verdict")


class FleetCollector:
    """Metric families from the reports ``source`` gives at each scrape."""

    def __init__(self, source: Callable[[], Sequence[NodeReport]]) -> None:
        self.source = source

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        reports = self.source()
        binding = GaugeMetricFamily(
            f"{PREFIX}_exposed_binding",
            "An exposed binding (1): a published port reachable from outside the node, a "
            "container on the host's network (no address or port) or an ingress port (address *).",
            labels=BINDING_LABELS,
        )
        exposed = GaugeMetricFamily(f"{PREFIX}_exposed_bindings",
                                    "Exposed bindings on the node.", labels=("node",))
        reachable = GaugeMetricFamily(f"{PREFIX}_node_reachable",
                                      "1 when the node's engine answered, else 0.",
                                      labels=("node",))
        findings = GaugeMetricFamily(f"{PREFIX}_findings",
                                     "Findings on the node by rule (allowed: meant to be public).",
                                     labels=("node", "rule"))
        last = GaugeMetricFamily(f"{PREFIX}_last_audit_timestamp_seconds",
                                 "When the node was last audited (Unix time).", labels=("node",))
        duration = GaugeMetricFamily(f"{PREFIX}_audit_duration_seconds",
                                     "How long the node's last audit took.", labels=("node",))
        events = CounterMetricFamily(f"{PREFIX}_events_handled",
                                     "Engine events handled while watching.", labels=("node",))
        watching = False
        for r in reports:
            reachable.add_metric([r.name], 1.0 if r.reachable else 0.0)
            shown = r.exposures if r.reachable else ()
            exposed.add_metric([r.name], float(len(shown)))
            for e in shown:
                binding.add_metric(
                    [e.node, e.container, e.service, e.stack, e.address,
                     str(e.port) if e.port else "", e.protocol, e.verdict], 1.0,
                )
            for rule, count in sorted(r.findings.items()):
                findings.add_metric([r.name, rule], float(count))
            if r.last_audit is not None:
                last.add_metric([r.name], r.last_audit)
            if r.duration is not None:
                duration.add_metric([r.name], r.duration)
            if r.events is not None:
                watching = True
                events.add_metric([r.name], float(r.events))
        yield from (binding, exposed, reachable, findings, last, duration)
        if watching:
            yield events


def registry(source: Callable[[], Sequence[NodeReport]]) -> CollectorRegistry:
    from prometheus_client.registry import CollectorRegistry

    reg = CollectorRegistry(auto_describe=False)
    reg.register(FleetCollector(source))
    return reg


def text(reports: Sequence[NodeReport]) -> bytes:
    """The reports in the Prometheus text format (what the textfile collector reads)."""
    from prometheus_client.exposition import generate_latest

    fixed = tuple(reports)
    return generate_latest(registry(lambda: fixed))


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[V6]:PORT``) of ``--metrics-listen``."""
    host, sep, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ComposeNetError(
            f"--metrics-listen {text!r}: expected HOST:PORT, as 127.0.0.1:9779 or [::1]:9779"
        )
    return host, int(port)


class Server:
    """``/metrics`` over HTTP in a thread of its own, until ``close``."""

    def __init__(self, listen: str, source: Callable[[], Sequence[NodeReport]]) -> None:
        from prometheus_client.exposition import start_http_server

        host, port = parse_listen(listen)
        try:
            self.server, self.thread = start_http_server(port, host, registry(source))
        except OSError as e:
            raise ComposeNetError(
                f"--metrics-listen {listen}: cannot listen: {e.strerror or e}"
            ) from None

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def close(self) -> None:
        closer = threading.Thread(target=self.server.shutdown, daemon=True)
        closer.start()
        closer.join(5)
        self.server.server_close()
