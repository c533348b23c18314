"""The stack strategies' edits: exact text out, proven, idempotent, and what swarm then publishes.

Each row is a stack file, a strategy and the file compose-net writes. The same rows go
through ``docker stack config`` (the CLI's own stack loader, no engine needed): the output
must be accepted, and the ports it publishes are listed in the last column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from harness import docker_cli, oracle, require

from compose_net import document, proof, yamltree
from compose_net.errors import ComposeNetError, SafetyError
from compose_net.policy.allowances import Allow
from compose_net.rewrite import Edit
from compose_net.source import Source
from compose_net.swarm import strategies
from compose_net.swarm.strategies import DELETE, Strategy

PIN = '"node.labels.compose-net.host-binding == internal"'


def row(
    strategy: Strategy,
    before: str,
    after: str,
    published: dict[str, list[str]],
    *,
    allows: tuple[str, ...] = (),
    network: str = "internal",
    id: str,
) -> Any:
    return pytest.param(strategy, before, after, published, allows, network, id=id)


CASES = [
    # ----------------------------------------------------------------- unpublish
    row(
        "unpublish",
        """\
services:
  redis:
    image: redis
    ports:
      - "6379:6379"  # cache
      # metrics, scraped from outside
      - "9121:9121"  # compose-net: allow scraped by the monitoring host
      - target: 8001
        published: 8001
    environment: {A: b}
""",
        """\
services:
  redis:
    image: redis
    ports:
      # metrics, scraped from outside
      - "9121:9121"  # compose-net: allow scraped by the monitoring host
    environment: {A: b}
""",
        {"redis": ["ingress 9121->9121/tcp"]},
        id="unpublish-block-items-pragma-kept",
    ),
    row(
        "unpublish",
        """\
services:
  web:
    image: nginx
    ports: ["80:80", "81:81", 443, "82:82", "8080:8080"]
""",
        """\
services:
  web:
    image: nginx
    ports: [443]
""",
        {"web": ["ingress *->443/tcp"]},
        allows=("web:443",),
        id="unpublish-flow-runs-around-allowed",
    ),
    row(
        "unpublish",
        """\
services:
  web:
    image: nginx
    ports: ["443:443", "81:81", "82:82"]
""",
        """\
services:
  web:
    image: nginx
    ports: ["443:443"]
""",
        {"web": ["ingress 443->443/tcp"]},
        allows=("web:443",),
        id="unpublish-flow-last-run",
    ),
    row(
        "unpublish",
        """\
services:
  web:
    image: nginx
    ports:
      # the site
      - "80:80"
      - 443:443
    volumes: [data:/data]
volumes:
  data:
""",
        """\
services:
  web:
    image: nginx
      # the site
    volumes: [data:/data]
volumes:
  data:
""",
        {"web": []},
        id="unpublish-all-block-key-removed-comment-kept",
    ),
    row(
        "unpublish",
        """\
services:
  web:
    image: nginx
    ports: ["10.176.0.12:80:80"]   # site
    restart: always
""",
        """\
services:
  web:
    image: nginx
    restart: always
""",
        {"web": []},
        id="unpublish-all-flow-key-removed",
    ),
    row(
        "unpublish",
        """\
services:
  web: {image: nginx, ports: ["80:80"], restart: always}
  db: {ports: ["5432:5432"], image: postgres}
""",
        """\
services:
  web: {image: nginx, restart: always}
  db: {image: postgres}
""",
        {"web": [], "db": []},
        id="unpublish-flow-services",
    ),
    row(
        "unpublish",
        """\
services:
  web:
    ports:
      - "80:80"
""",
        """\
services:
  web:
    ports: []
""",
        {"web": []},
        id="unpublish-only-key-becomes-empty-list",
    ),
    row(
        "unpublish",
        """\
services:
  a:
    image: a
    ports:
      - "1:1"
      - "2:2\"""",
        """\
services:
  a:
    image: a""",
        {"a": []},
        id="unpublish-no-final-newline",
    ),
    row(
        "unpublish",
        """\
services:
  app:
    image: app
    ports: !override
      - "8111:81"
    user: app
""",
        """\
services:
  app:
    image: app
    user: app
""",
        {"app": []},
        id="unpublish-tagged-list",
    ),
    row(
        "unpublish",
        """\
x-deploy: &deploy
  mode: global
services:
  a:
    image: a
    ports: ["1:1"]
    deploy:
      <<: *deploy
""",
        """\
x-deploy: &deploy
  mode: global
services:
  a:
    image: a
    deploy:
      <<: *deploy
""",
        {"a": []},
        id="unpublish-merge-elsewhere-untouched",
    ),
    row(
        "unpublish",
        """\
services:
  a:
    image: a
""",
        """\
services:
  a:
    image: a
""",
        {"a": []},
        id="unpublish-nothing-to-do",
    ),
    # ----------------------------------------------------------------- internal-network
    row(
        "internal-network",
        """\
services:
  api:
    image: api
    ports:
      - "8000:8000"
    deploy:
      replicas: 2
""",
        """\
services:
  api:
    image: api
    deploy:
      replicas: 2
    networks:
      - default
      - internal
networks:
  internal:
    driver: overlay
    attachable: true
""",
        {"api": []},
        id="internal-network-new",
    ),
    row(
        "internal-network",
        """\
services:
  a:
    image: a
    ports: ["1:1"]
    networks:
      - back
  b:
    image: b
    ports: ["2:2"]
    networks: [back]
  c:
    image: c
    ports: ["3:3"]
    networks:
      back:
        aliases: [cee]
  d:
    image: d
    ports: ["4:4"]
    networks: [back, internal]
networks:
  back: {}
""",
        """\
services:
  a:
    image: a
    networks:
      - back
      - internal
  b:
    image: b
    networks: [back, internal]
  c:
    image: c
    networks:
      back:
        aliases: [cee]
      internal: {}
  d:
    image: d
    networks: [back, internal]
networks:
  back: {}
  internal:
    driver: overlay
    attachable: true
""",
        {"a": [], "b": [], "c": [], "d": []},
        id="internal-network-service-network-forms",
    ),
    row(
        "internal-network",
        """\
services:
  a:
    image: a
    ports: ["1:1"]
networks:
  internal:
  other:
    driver: overlay
""",
        """\
services:
  a:
    image: a
    networks:
      - default
      - internal
networks:
  internal: {driver: overlay, attachable: true}
  other:
    driver: overlay
""",
        {"a": []},
        id="internal-network-declared-empty",
    ),
    row(
        "internal-network",
        """\
services:
  a:
    image: a
    ports: ["1:1"]
networks:
  internal:
    driver: overlay
""",
        """\
services:
  a:
    image: a
    networks:
      - default
      - internal
networks:
  internal:
    driver: overlay
    attachable: true
""",
        {"a": []},
        id="internal-network-made-attachable",
    ),
    row(
        "internal-network",
        """\
services:
  a:
    image: a
    ports: ["1:1"]
networks:
  internal:
    external: true
""",
        """\
services:
  a:
    image: a
    networks:
      - default
      - internal
networks:
  internal:
    external: true
""",
        {"a": []},
        id="internal-network-external-left-to-its-owner",
    ),
    row(
        "internal-network",
        """\
services:
  a:
    image: a
    ports: ["1:1", "2:2"]
networks: {front: {}}
""",
        """\
services:
  a:
    image: a
    ports: ["2:2"]
    networks:
      - default
      - backplane
networks: {front: {}, backplane: {driver: overlay, attachable: true}}
""",
        {"a": ["ingress 2->2/tcp"]},
        allows=("a:2",),
        network="backplane",
        id="internal-network-named-flow-networks-allowed-kept",
    ),
    row(
        "internal-network",
        "services:\r\n  a:\r\n    image: a\r\n    ports: ['1:1']\r\n",
        "services:\r\n  a:\r\n    image: a\r\n    networks:\r\n      - default\r\n"
        "      - internal\r\nnetworks:\r\n  internal:\r\n    driver: overlay\r\n"
        "    attachable: true\r\n",
        {"a": []},
        id="internal-network-crlf",
    ),
    row(
        "internal-network",
        """\
services:
    a:
        image: a
        ports: ['1:1']""",
        """\
services:
    a:
        image: a
        networks:
            - default
            - internal
networks:
    internal:
        driver: overlay
        attachable: true""",
        {"a": []},
        id="internal-network-indent-4-no-final-newline",
    ),
    row(
        "internal-network",
        """\
x-deploy: &default-deploy
  restart_policy:
    condition: on-failure
services:
  web:
    image: nginx
    ports:
      - 51820:51820/udp
    deploy:
      <<: *default-deploy
  db:
    image: postgres
""",
        """\
x-deploy: &default-deploy
  restart_policy:
    condition: on-failure
services:
  web:
    image: nginx
    deploy:
      <<: *default-deploy
    networks:
      - default
      - internal
  db:
    image: postgres
networks:
  internal:
    driver: overlay
    attachable: true
""",
        {"web": [], "db": []},
        id="internal-network-after-a-merge-key",
    ),
    # ----------------------------------------------------------------- host-mode
    row(
        "host-mode",
        """\
services:
  redis:
    image: redis
    ports:
      - "6379:6379"   # the cache
      - "10.1.2.3:8443:443/udp"
""",
        f"""\
services:
  redis:
    image: redis
    ports:
      - target: 6379
        published: 6379
        mode: host   # the cache
      - target: 443
        published: 8443
        protocol: udp
        mode: host
    deploy:
      placement:
        constraints:
          - {PIN}
""",
        {"redis": ["host 6379->6379/tcp", "host 8443->443/udp"]},
        id="host-mode-short-block",
    ),
    row(
        "host-mode",
        """\
services:
  web:
    image: nginx
    ports:
      - host_ip: 10.0.0.5
        target: 80
        published: 8080
      - target: 443
        published: 443
        host_ip: 10.0.0.5
        mode: ingress
      - {target: 53, published: 53, protocol: udp, host_ip: 10.0.0.5}
      - {target: 54, published: 54, mode: 'ingress'}
      - target: 55
        published: 55
        mode: host
""",
        f"""\
services:
  web:
    image: nginx
    ports:
      - mode: host
        target: 80
        published: 8080
      - target: 443
        published: 443
        mode: host
      - {{target: 53, published: 53, protocol: udp, mode: host}}
      - {{target: 54, published: 54, mode: 'host'}}
      - target: 55
        published: 55
        mode: host
    deploy:
      placement:
        constraints:
          - {PIN}
""",
        {
            "web": [
                "host 443->443/tcp",
                "host 53->53/udp",
                "host 54->54/tcp",
                "host 55->55/tcp",
                "host 8080->80/tcp",
            ]
        },
        id="host-mode-long-host-ip-and-mode",
    ),
    row(
        "host-mode",
        """\
services:
  web:
    image: nginx
    ports:
      - host_ip: 10.0.0.5
        target: 80
        mode: ingress
    deploy:
      <<: {mode: global}
""",
        f"""\
services:
  web:
    image: nginx
    ports:
      - target: 80
        mode: host
    deploy:
      <<: {{mode: global}}
      placement:
        constraints:
          - {PIN}
""",
        {"web": ["host *->80/tcp"]},
        id="host-mode-first-key-removed-inline-merge",
    ),
    row(
        "host-mode",
        """\
services:
  a:
    image: a
    ports: ["1:1"]
    deploy:
      mode: global
  b:
    image: b
    ports: ["2:2/udp"]
    deploy:
      placement:
        preferences:
          - spread: node.labels.zone
  c:
    image: c
    ports: ["3:3"]
    deploy:
      placement:
        constraints: [node.role == worker]
  d:
    image: d
    ports: ["4:4"]
    deploy:
      placement:
        constraints:
          - node.role == worker
  e:
    image: e
    ports: ["${E_PORT:-5}:5", "7"]
    deploy: {mode: global}
""",
        f"""\
services:
  a:
    image: a
    ports: [{{target: 1, published: 1, mode: host}}]
    deploy:
      mode: global
      placement:
        constraints:
          - {PIN}
  b:
    image: b
    ports: [{{target: 2, published: 2, protocol: udp, mode: host}}]
    deploy:
      placement:
        preferences:
          - spread: node.labels.zone
        constraints:
          - {PIN}
  c:
    image: c
    ports: [{{target: 3, published: 3, mode: host}}]
    deploy:
      placement:
        constraints: [node.role == worker, {PIN}]
  d:
    image: d
    ports: [{{target: 4, published: 4, mode: host}}]
    deploy:
      placement:
        constraints:
          - node.role == worker
          - {PIN}
  e:
    image: e
    ports: [{{target: 5, published: "${{E_PORT:-5}}", mode: host}}, {{target: 7, mode: host}}]
    deploy: {{mode: global, placement: {{constraints: [{PIN}]}}}}
""",
        {
            "a": ["host 1->1/tcp"],
            "b": ["host 2->2/udp"],
            "c": ["host 3->3/tcp"],
            "d": ["host 4->4/tcp"],
            "e": ["host *->7/tcp", "host 5->5/tcp"],
        },
        id="host-mode-placement-forms",
    ),
    row(
        "host-mode",
        """\
services:
  a:
    image: a
    ports:
      - {target: 1, published: 1, mode: host}
      - "80:80"
    deploy:
      placement:
        constraints: ["node.labels.compose-net.host-binding==internal"]
""",
        """\
services:
  a:
    image: a
    ports:
      - {target: 1, published: 1, mode: host}
      - "80:80"
    deploy:
      placement:
        constraints: ["node.labels.compose-net.host-binding==internal"]
""",
        {"a": ["host 1->1/tcp", "ingress 80->80/tcp"]},
        allows=("a:80",),
        id="host-mode-already-pinned-and-allowed",
    ),
]


def _run(strategy: Strategy, text: str, allows: tuple[str, ...], network: str) -> Any:
    return strategies.harden_stack_text(
        Source("stack.yml", text, False),
        strategy,
        allows=[Allow.parse(a) for a in allows],
        network=network,
    )


@pytest.mark.parametrize(("strategy", "before", "after", "published", "allows", "network"), CASES)
def test_edits(
    strategy: Strategy,
    before: str,
    after: str,
    published: dict[str, list[str]],
    allows: tuple[str, ...],
    network: str,
) -> None:
    assert _run(strategy, before, allows, network).text == after


@pytest.mark.parametrize(("strategy", "before", "after", "published", "allows", "network"), CASES)
def test_second_run_changes_nothing(
    strategy: Strategy,
    before: str,
    after: str,
    published: dict[str, list[str]],
    allows: tuple[str, ...],
    network: str,
) -> None:
    result = _run(strategy, after, allows, network)
    assert (result.text, result.plan.edits) == (after, [])


def stack_config_ports(path: Path) -> dict[str, list[str]]:
    """What ``docker stack config`` publishes per service: ``mode published->target/proto``."""
    proc = oracle.run(  # once per run for the same file (tests/harness/oracle.py)
        ["docker", "stack", "config", "-c", path.name],
        path.parent,
        {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(path.parent),
            "DOCKER_CONFIG": str(path.parent),
            "DOCKER_HOST": "unix:///nonexistent.sock",
        },
    )
    assert proc.returncode == 0, proc.stderr
    data = yamltree.to_plain(yamltree.compose(proc.stdout, "stack config"))
    return {
        name: sorted(
            f"{p['mode']} {p.get('published', '*')}->{p['target']}/{p.get('protocol', 'tcp')}"
            for p in service.get("ports") or []
        )
        for name, service in data["services"].items()
    }


@pytest.mark.parametrize(("strategy", "before", "after", "published", "allows", "network"), CASES)
def test_docker_stack_config_accepts_and_publishes(
    tmp_path: Path,
    strategy: Strategy,
    before: str,
    after: str,
    published: dict[str, list[str]],
    allows: tuple[str, ...],
    network: str,
) -> None:
    require(docker_cli() is not None, "the docker CLI is not installed")
    path = tmp_path / "stack.yml"
    path.write_bytes(_run(strategy, before, allows, network).text.encode())
    assert stack_config_ports(path) == published


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("strategy", "text", "error"),
    [
        pytest.param(
            "unpublish",
            """\
x-base: &base
  image: x
  ports:
    - "80:80"
services:
  a:
    <<: *base
""",
            "stack.yml:4:5: the ports list of services.a is shared through an anchor or a merge "
            "key; compose-net edits only text used in one place: write it out where it is used",
            id="merged-ports-list",
        ),
        pytest.param(
            "internal-network",
            """\
services:
  b:
    image: y
    ports:
      - &p "8080:80"
  c:
    image: y
    ports:
      - *p
""",
            "stack.yml:5:9: services.b.ports[0] is shared through an anchor or a merge key; "
            "compose-net edits only text used in one place: write it out where it is used",
            id="anchored-entry",
        ),
        pytest.param(
            "unpublish",
            """\
services:
  a: &a
    image: a
    ports: ["1:1"]
  b: *a
""",
            "stack.yml:4:12: the ports list of services.a is shared through an anchor or a merge "
            "key; compose-net edits only text used in one place: write it out where it is used",
            id="aliased-service",
        ),
        pytest.param(
            "host-mode",
            """\
x-deploy: &deploy
  deploy:
    mode: global
services:
  a:
    <<: *deploy
    image: a
    ports: ["1:1"]
  b:
    <<: *deploy
    image: b
""",
            "stack.yml:3:5: services.a.deploy is shared through an anchor or a merge key; "
            "compose-net edits only text used in one place: write it out where it is used",
            id="shared-deploy",
        ),
        pytest.param(
            "host-mode",
            "services:\n  a:\n    image: a\n    ports: ['8000-8001:8000-8001']\n",
            "stack.yml:4:13: '8000-8001:8000-8001' is a port range, which swarm's long syntax "
            "cannot publish; write one entry per port, or use --stack-strategy unpublish",
            id="host-mode-range",
        ),
        pytest.param(
            "host-mode",
            "services:\n  a:\n    image: a\n    ports: [{target: 80, published: '8000-8001'}]\n",
            "stack.yml:4:13: services.a.ports[0] publishes the range '8000-8001', which swarm's "
            "long syntax cannot; write one entry per port, or use --stack-strategy unpublish",
            id="host-mode-long-range",
        ),
        pytest.param(
            "host-mode",
            "services:\n  a:\n    image: a\n    ports: ['${WEB_PORT}:80']\n",
            "stack.yml:4:13: '${WEB_PORT}' in '${WEB_PORT}:80' is empty when its variable is "
            "unset, which long syntax rejects (short syntax then picks a random port): give the "
            "variable a default, such as ${VAR:-8080}, or write the entry in long syntax by hand",
            id="host-mode-variable-without-default",
        ),
        pytest.param(
            "host-mode",
            "services:\n  a:\n    image: a\n    ports: ['${SQL:-127.0.0.1:13306}:3306']\n",
            "stack.yml:4:13: a variable in '${SQL:-127.0.0.1:13306}:3306' holds part of the port "
            "structure; write the entry in long syntax by hand",
            id="host-mode-variable-structure",
        ),
        pytest.param(
            "host-mode",
            "services:\n  a:\n    image: a\n    ports: [&p '1:1']\n",
            "stack.yml:4:13: this port entry has an anchor or a tag; write it out without them to "
            "let compose-net convert it",
            id="host-mode-anchor-on-entry",
        ),
        pytest.param(
            "host-mode",
            "version: '3.1'\nservices:\n  a:\n    image: a\n    ports: ['1:1']\n",
            "stack.yml:1:10: version 3.1 is older than file format 3.2, which long-syntax ports "
            "(mode: host) needs: raise the version to 3.2 or later, or remove it",
            id="host-mode-old-format",
        ),
        pytest.param(
            "internal-network",
            "version: '3.0'\nservices:\n  a:\n    image: a\n    ports: ['1:1']\n",
            "stack.yml:1:10: version 3.0 is older than file format 3.2, which an attachable "
            "overlay network needs: raise the version to 3.2 or later, or remove it",
            id="internal-network-old-format",
        ),
        pytest.param(
            "internal-network",
            "services:\n  a:\n    image: a\n    ports: ['1:1']\nnetworks:\n"
            "  internal:\n    driver: bridge\n",
            "stack.yml:7:5: networks.internal is a 'bridge' network, not an overlay; choose "
            "another network name with --stack-network",
            id="internal-network-bridge",
        ),
        pytest.param(
            "internal-network",
            "services:\n  a:\n    image: a\n    ports: ['1:1']\nnetworks:\n"
            "  internal:\n    driver: overlay\n    attachable: false\n",
            "stack.yml:7:5: networks.internal says attachable: False; internal clients could not "
            "join it: choose another network name with --stack-network",
            id="internal-network-not-attachable",
        ),
        pytest.param(
            "internal-network",
            "services:\n  a:\n    image: a\n    network_mode: host\n    ports: ['1:1']\n",
            "stack.yml:2:3: services.a sets network_mode, which cannot be combined with "
            "networks; use --stack-strategy unpublish or host-mode",
            id="internal-network-network-mode",
        ),
        pytest.param(
            "internal-network",
            "x-net: &net back\nservices:\n  a:\n    image: a\n    ports: ['1:1']\n"
            "    networks:\n      - *net\nnetworks:\n  back:\n",
            "stack.yml:7:7: the last item of this list is an alias; write it out first",
            id="internal-network-alias-in-networks",
        ),
        pytest.param(
            "internal-network",
            "{services: {a: {image: a, ports: ['1:1']}}}\n",
            "stack.yml:1:1: the document is a flow mapping; add the networks by hand",
            id="internal-network-flow-document",
        ),
        pytest.param(
            "unpublish",
            "services:\n  a:\n    image: a\n    ports:\n"
            "      - {target: 80, published: 80, host_ip: 10.0.0.1}\n",
            "stack.yml:5:9: services.a.ports[0] is allowed to stay public but has host_ip, "
            "which docker stack deploy rejects: remove host_ip (swarm publishes the port on "
            "every node whatever it says)",
            id="allowed-with-host-ip",
        ),
    ],
)
def test_refusals(strategy: Strategy, text: str, error: str) -> None:
    allows = [Allow.parse("a")] if "allowed" in error else []
    with pytest.raises(ComposeNetError) as info:
        strategies.harden_stack_text(Source("stack.yml", text, False), strategy, allows=allows)
    assert str(info.value) == error


# --------------------------------------------------------------------------- messages


@pytest.mark.parametrize(
    ("strategy", "text", "messages"),
    [
        pytest.param(
            "unpublish",
            "services:\n  redis:\n    image: redis\n    networks: [back]\n"
            "    ports: ['6379:6379', '9121:9121']\n",
            [
                "5:13: services.redis.ports[0] '6379:6379' is no longer published; services "
                "on its overlay network (back) reach it at redis:6379 (each task at "
                "tasks.redis:6379)",
                "5:26 kept: services.redis.ports[1] '9121:9121' stays published on every node: "
                "allowed by redis:9121",
            ],
            id="unpublish",
        ),
        pytest.param(
            "internal-network",
            "services:\n  api:\n    image: api\n    ports: [8000]\n",
            [
                "4:13: services.api.ports[0] 8000 is no longer published; api joined the "
                "attachable overlay network internal: reach it at api:8000 (each task at "
                "tasks.api:8000) from services on that network or from containers run with "
                "--network <stack>_internal",
            ],
            id="internal-network",
        ),
        pytest.param(
            "host-mode",
            "services:\n  api:\n    image: api\n    ports: ['10.0.0.5:80:8000']\n",
            [
                "4:13: services.api.ports[0]: the host IP 10.0.0.5 is dropped (swarm "
                "ignores it); the node's docker_gwbridge decides the address",
                "4:13: services.api.ports[0] '10.0.0.5:80:8000' is published in host mode, "
                "only on nodes labelled compose-net.host-binding=internal; set each node up with "
                "`compose-net node-setup --node NAME` (its docker_gwbridge then binds the port to "
                "the node's internal IPv4 address only: the binding is IPv4-only)",
            ],
            id="host-mode",
        ),
    ],
)
def test_messages(strategy: Strategy, text: str, messages: list[str]) -> None:
    result = strategies.harden_stack_text(
        Source("stack.yml", text, False), strategy, allows=[Allow.parse("redis:9121")]
    )
    got = [
        f"{m.line}:{m.column}{' kept' if m.kept else ''}: {m.text}" for m in result.plan.messages
    ]
    assert got == messages


# --------------------------------------------------------------------------- the proof


def _tampered(text: str, strategy: Strategy, how: str) -> strategies.StackPlan:
    doc = document.load(Source("stack.yml", text, False))
    plan = strategies.plan(doc, strategy)
    if how == "extra edit":
        plan.edits.append(Edit(0, 0, "x-added: 1\n"))
    elif how == "missing change":
        plan.changes.pop()
    elif how == "unparsable":
        plan.edits.append(Edit(len(text), len(text), "  - ]\n"))
    elif how == "half done":
        plan.edits = plan.edits[:1]
        plan.changes = plan.changes[:1]
    return plan


PROOF_TEXT = "services:\n  a:\n    image: a\n    ports: ['1:1']\n"


@pytest.mark.parametrize(
    ("strategy", "how", "error"),
    [
        pytest.param(
            "unpublish",
            "extra edit",
            "stack.yml: the edit would change more than the unpublish strategy intends (at "
            "x-added); nothing was written",
            id="extra-edit",
        ),
        pytest.param(
            "internal-network",
            "missing change",
            "stack.yml: the edit would change more than the internal-network strategy intends "
            "(at networks); nothing was written",
            id="unplanned-change",
        ),
        pytest.param(
            "unpublish",
            "unparsable",
            "stack.yml: the edited file does not parse (invalid YAML: expected <block end>, but "
            "found '-'); nothing was written",
            id="unparsable",
        ),
        pytest.param(
            "host-mode",
            "half done",
            "stack.yml: a second run would change the file again; nothing was written",
            id="not-idempotent",
        ),
    ],
)
def test_proof_refuses_a_wrong_plan(strategy: Strategy, how: str, error: str) -> None:
    plan = _tampered(PROOF_TEXT, strategy, how)
    doc = document.load(Source("stack.yml", PROOF_TEXT, False))
    with pytest.raises(SafetyError) as info:
        strategies.prove(doc, plan)
    assert str(info.value) == error


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param([], {"services": {"a": {"ports": ["1:1"]}}}, id="none"),
        pytest.param(
            [(("services", "a", "ports"), DELETE)], {"services": {"a": {}}}, id="delete-key"
        ),
        pytest.param(
            [(("services", "a", "networks"), ["default"]), (("networks",), {"n": {}})],
            {"services": {"a": {"ports": ["1:1"], "networks": ["default"]}}, "networks": {"n": {}}},
            id="set-keys",
        ),
    ],
)
def test_expected_model(changes: list[tuple[tuple[str, ...], Any]], expected: Any) -> None:
    original = {"services": {"a": {"ports": ["1:1"]}}}
    assert proof.expected_model(original, changes) == expected
    assert original == {"services": {"a": {"ports": ["1:1"]}}}
