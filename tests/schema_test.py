"""The schemas and the validator: tables of files with the expected verdict and line.

Every table row is also given to the real Compose binary (``docker-compose config``)
and to ``docker stack config``; a row records each place where compose-net's
verdict is meant to differ from theirs, and why. A difference that is not
recorded fails the test, and so does a recorded one that has gone away.

A line ending in ``# <-`` is the defect's line: the first (and only) error must
point at it.
"""

from __future__ import annotations

import concurrent.futures
import csv
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from harness import docker_cli, oracle, require

from compose_net import document, schema, source
from compose_net.commands import validate as validate_command
from compose_net.errors import ComposeNetError

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
MARK = "# <-"

# --------------------------------------------------------------------------- documented differences

# compose-net is stricter than Compose where it knows ports and addresses:
PORT_ZERO = (
    "Compose accepts host port 0 (Docker picks a port); compose-net wants 1-65535 or no host port"
)
LONG_PORT_RANGE = "Compose does not check long-syntax port numbers; compose-net wants 1-65535"
LONG_PUBLISHED = (
    "Compose takes any string as long-syntax published; compose-net wants a port or START-END"
)
LONG_PROTOCOL = "Compose takes any long-syntax protocol; compose-net wants tcp, udp or sctp"
LONG_MODE = "Compose takes any long-syntax mode; compose-net wants host or ingress"
NETWORK_MODE = (
    "Compose passes any network_mode on (a network's name, typos); compose-net wants "
    "host, none, bridge, default, service:NAME or container:NAME"
)
# compose-net judges the file, not the deployment around it:
REQUIRED_VAR = (
    "Compose refuses to load a file whose required variable is unset; compose-net accepts "
    "the value, since the variable is given at deploy time"
)
INCLUDE = "Compose opens included files; compose-net validates the one file it is given"
# docker stack deploy:
STACK_HOST_IP = (
    "docker stack config accepts a host IP in short syntax and ignores it (publishing on "
    "every interface of every node); compose-net refuses it unless it is 0.0.0.0 or ::"
)
STACK_PORT_ZERO = (
    "docker stack config accepts port 0 (host or container); compose-net wants 1-65535"
)
STACK_REQUIRED_VAR = (
    "docker stack config refuses ${X:?message} when X is unset; compose-net accepts the "
    "value, since the variable is given at deploy time"
)
STACK_LONG = "docker stack config does not check long-syntax port values; compose-net does"
STACK_LITERAL = (
    "docker stack config casts only interpolated strings; compose-net sees values after "
    "interpolation and accepts the string form everywhere"
)
STACK_TARGET = (
    "docker stack config accepts a long-syntax port without a target; compose-net does not"
)
STACK_NETWORK_MODE = "docker stack config passes any network_mode on; compose-net checks it"
STACK_LENIENT = "docker stack config checks this later than its schema, or not at all"
DOCUMENTED = {
    PORT_ZERO, LONG_PORT_RANGE, LONG_PUBLISHED, LONG_PROTOCOL, LONG_MODE, NETWORK_MODE,
    REQUIRED_VAR, INCLUDE,
    STACK_HOST_IP, STACK_PORT_ZERO, STACK_REQUIRED_VAR, STACK_LONG, STACK_LITERAL, STACK_TARGET,
    STACK_NETWORK_MODE, STACK_LENIENT,
}


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    #: the path of the first error (``""`` for a valid file)
    where: str = ""
    #: a fragment of the first error's message
    says: str = ""
    #: why docker-compose's verdict differs from ours ("" when it agrees)
    compose_differs: str = ""
    #: why docker stack config's verdict differs from our stack verdict ("" when it agrees)
    stack_differs: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", textwrap.dedent(self.text))

    @property
    def valid(self) -> bool:
        return MARK not in self.text

    @property
    def line(self) -> int | None:
        for number, text in enumerate(self.text.splitlines(), 1):
            if text.rstrip().endswith(MARK):
                return number
        return None


# --------------------------------------------------------------------------- valid files

VALID = [
    Case("minimal", """\
        services:
          web:
            image: nginx:1.27
"""),
    Case("no-services", """\
        services: {}
"""),
    Case("obsolete-version", """\
        version: '3.8'
        services:
          web:
            image: nginx:1.27
"""),
    Case("include-null", """\
        include:
        services:
          web:
            image: nginx:1.27
"""),
    Case("model-names-are-free", """\
        services:
          web:
            image: nginx:1.27
            models: [my model]
        models:
          my model:
            model: docker.io/smollm2
"""),
    Case("project-name", """\
        name: shop
        services:
          web:
            image: nginx:1.27
"""),
    Case("short-port-forms", """\
        services:
          web:
            image: nginx:1.27
            ports:
              - "3000"
              - "3000-3005"
              - "8000:8000"
              - "9090-9091:8080-8081"
              - "49100:22"
              - "8000-9000:80"
              - "6060:6060/udp"
              - "7000:7000/SCTP"
              - 8080
              - "127.0.0.1::5000"
              - "0.0.0.0:8001:8001"
""", stack_differs=STACK_HOST_IP),
    Case("short-port-addresses", """\
        services:
          web:
            image: nginx:1.27
            ports:
              - "127.0.0.1:8001:8001"
              - "127.0.0.1:5000-5010:5000-5010"
              - "::1:6000:6000"
              - "[::1]:6001:6001"
              - "[::]:6002:6002/udp"
              - "[fe80::1]:6003:6003"
              - "::ffff:10.0.0.1:6004:6004"
""", stack_differs=STACK_HOST_IP),
    Case("long-port", """\
        services:
          web:
            image: nginx:1.27
            ports:
              - name: web
                target: 80
                host_ip: 127.0.0.1
                published: "8080"
                protocol: tcp
                app_protocol: http
                mode: host
              - target: 443
                published: "8443-8450"
                host_ip: "::1"
              - target: 53
                published: 5353
                protocol: udp
                x-note: dns
              - target: "9000"
                published: ""
"""),
    Case("interpolated-ports", """\
        services:
          web:
            image: nginx:1.27
            ports:
              - "${HOST_IP:-127.0.0.1}:${PORT:-8080}:80"
              - "${PORT2}:81"
              - "${IP}:8082:82"
              - target: ${TARGET:-83}
                published: ${PUB}
                host_ip: ${BIND:-10.0.0.1}
                protocol: ${PROTO:-udp}
"""),
    Case("required-variable-missing", """\
        services:
          web:
            image: nginx:1.27
            ports:
              - "${PORT:?set PORT}:80"
""", compose_differs=REQUIRED_VAR, stack_differs=STACK_REQUIRED_VAR),
    Case("escaped-dollar", """\
        services:
          web:
            image: nginx:1.27
            command: sh -c 'echo $$HOME $${USER}'
            environment:
              PRICE: $$5
"""),
    Case("environment-forms", """\
        services:
          web:
            image: nginx:1.27
            environment:
              A: x
              B: 1
              C: true
              D:
            labels: [a=b, c]
            annotations: {x: y}
            sysctls: [net.core.somaxconn=1024]
"""),
    Case("extensions", """\
        x-defaults: &d
          restart: always
        x-other: [1, 2]
        services:
          web:
            image: nginx:1.27
            <<: *d
            x-team: web
            deploy:
              x-tier: front
            ports:
              - target: 80
                x-exposed: false
        networks:
          front:
            x-vlan: 10
        volumes:
          data:
            x-backup: true
"""),
    Case("anchors-and-merges", """\
        x-ports: &ports
          - "8080:80"
        services:
          web:
            image: nginx:1.27
            ports: *ports
          api:
            image: api
            ports: *ports
"""),
    Case("reset-and-override", """\
        services:
          web:
            image: nginx:1.27
            ports: !reset []
            command: !reset null
            environment: !override {A: b}
"""),
    Case("network-modes", """\
        services:
          vpn:
            image: nginx:1.27
          app:
            image: x
            network_mode: service:vpn
          host:
            image: x
            network_mode: host
          none:
            image: x
            network_mode: none
          ctr:
            image: x
            network_mode: container:abc123
          br:
            image: x
            network_mode: bridge
          var:
            image: x
            network_mode: ${NM}
"""),
    Case("deploy", """\
        services:
          web:
            image: nginx:1.27
            deploy:
              mode: replicated
              replicas: 2
              endpoint_mode: vip
              labels: {tier: front}
              placement:
                constraints: [node.role == manager, node.labels.zone == a]
                preferences:
                  - spread: node.labels.zone
                max_replicas_per_node: 1
              resources:
                limits: {cpus: '0.5', memory: 512M, pids: 100}
                reservations: {cpus: '0.25', memory: 128M}
              restart_policy: {condition: on-failure, delay: 5s, max_attempts: 3, window: 2m}
              update_config:
                parallelism: 2
                delay: 10s
                order: start-first
                failure_action: rollback
              rollback_config: {parallelism: 1, monitor: 30s, max_failure_ratio: 0.2}
"""),
    Case("build-and-runtime", """\
        services:
          web:
            build:
              context: .
              dockerfile: Dockerfile
              args: {VERSION: '1'}
              target: prod
              cache_from: [app:cache]
              platforms: [linux/amd64]
            healthcheck:
              test: [CMD, curl, -f, http://localhost]
              interval: 1m30s
              timeout: 10s
              retries: 3
              start_period: 40s
            logging:
              driver: json-file
              options: {max-size: 10m, max-file: 3}
            ulimits:
              nproc: 65535
              nofile: {soft: 20000, hard: 40000}
            read_only: 'true'
            init: true
            stop_grace_period: 1m
            mem_limit: 512m
            cpus: 1.5
            shm_size: 64m
            restart: unless-stopped
            user: '1000:1000'
"""),
    Case("volumes-secrets-configs", """\
        services:
          web:
            image: nginx:1.27
            volumes:
              - data:/var/lib/data
              - ./conf:/etc/conf:ro
              - type: bind
                source: /srv
                target: /srv
                bind: {propagation: rprivate}
              - type: tmpfs
                target: /tmp
                tmpfs: {size: 10000000}
            secrets:
              - token
              - source: cert
                target: /run/cert
                mode: 0440
            configs: [site]
        volumes:
          data: {}
        secrets:
          token:
            file: ./token
          cert:
            external: true
        configs:
          site:
            file: ./site.conf
"""),
    Case("networks", """\
        services:
          web:
            image: nginx:1.27
            networks:
              front:
                aliases: [www]
                ipv4_address: 172.20.0.5
              back:
        networks:
          front:
            driver: bridge
            ipam:
              config:
                - subnet: 172.20.0.0/24
                  gateway: 172.20.0.1
          back:
            internal: true
"""),
    Case("depends-on-long", """\
        services:
          web:
            image: nginx:1.27
            depends_on:
              db:
                condition: service_healthy
                restart: true
          db:
            image: postgres
"""),
    Case("expose-and-extra-hosts", """\
        services:
          web:
            image: nginx:1.27
            expose: ['3000', 8000, '8080-8085/tcp']
            extra_hosts: ['somehost=162.242.195.82', 'myhostv6=[::1]']
"""),
    Case("include", """\
        include:
          - ./other.yaml
        services:
          web:
            image: nginx:1.27
""", compose_differs=INCLUDE),
    Case("develop-and-hooks", """\
        services:
          web:
            image: nginx:1.27
            develop:
              watch:
                - path: ./src
                  action: sync
                  target: /app
            post_start:
              - command: ./warm.sh
                user: root
"""),
]


# ---------------------------------------------------------------------- invalid, one defect each

INVALID = [
    Case("unknown-service-key", """\
        services:
          web:
            image: nginx:1.27
            prots: ["80:80"]  # <-
""", "services.web.prots", "unknown key 'prots' (did you mean 'ports'?)"),
    Case("unknown-service-key-block", """\
        services:
          web:
            image: nginx:1.27
            healthchek:  # <-
              test: [NONE]
""", "services.web.healthchek", "unknown key"),
    Case("unknown-top-level-key", """\
        servics:  # <-
          web:
            image: nginx
""", "servics", "unknown key"),
    Case("unknown-top-level-key-beside-services", """\
        projects: [a]  # <-
        services:
          web:
            image: nginx:1.27
""", "projects", "unknown key"),
    Case("unknown-long-port-key", """\
        services:
          web:
            image: nginx:1.27
            ports:
              - target: 80
                hostip: 127.0.0.1  # <-
""", "services.web.ports[0].hostip", "unknown key"),
    Case("unknown-deploy-key", """\
        services:
          web:
            image: nginx:1.27
            deploy:
              replica: 2  # <-
""", "services.web.deploy.replica", "did you mean 'replicas'"),
    Case("unknown-placement-key", """\
        services:
          web:
            image: nginx:1.27
            deploy:
              placement:
                constraint: [node.role == manager]  # <-
""", "services.web.deploy.placement.constraint", "did you mean 'constraints'"),
    Case("unknown-network-key", """\
        services:
          web:
            image: nginx:1.27
        networks:
          front:
            drivers: bridge  # <-
""", "networks.front.drivers", "unknown key"),
    Case("unknown-healthcheck-key", """\
        services:
          web:
            image: nginx:1.27
            healthcheck:
              intervall: 10s  # <-
""", "services.web.healthcheck.intervall", "unknown key"),
    Case("unknown-build-key", """\
        services:
          web:
            image: nginx:1.27
            build:
              context: .
              dockerfil: D  # <-
""", "services.web.build.dockerfil", "unknown key"),
    Case("unknown-logging-key", """\
        services:
          web:
            image: nginx:1.27
            logging:
              drivers: syslog  # <-
""", "services.web.logging.drivers", "unknown key"),
    Case("unknown-volume-long-key", """\
        services:
          web:
            image: nginx:1.27
            volumes:
              - type: bind
                source: /a
                target: /b
                readonly: true  # <-
""", "services.web.volumes[0].readonly", "unknown key"),
    Case("service-name", """\
        services:
          web app:  # <-
            image: nginx
""", 'services["web app"]', "a name may only"),
    Case("volume-name", """\
        services:
          web:
            image: nginx:1.27
        volumes:
          my data: {}  # <-
""", 'volumes["my data"]', "a name may only"),
    Case("image-list", """\
        services:
          web:
            image: [nginx]  # <-
""", "services.web.image", "must be a string"),
    Case("ports-mapping", """\
        services:
          web:
            image: nginx:1.27
            ports:
              web: 80  # <-
""", "services.web.ports", "must be a list"),
    Case("ports-null", """\
        services:
          web:
            image: nginx:1.27
            ports:  # <-
""", "services.web.ports", "must be a list"),
    Case("environment-number", """\
        services:
          web:
            image: nginx:1.27
            environment: 5  # <-
""", "services.web.environment", "must be a mapping or list"),
    Case("environment-list-item", """\
        services:
          web:
            image: nginx:1.27
            environment:
              - A=1
              - 5  # <-
""", "services.web.environment[1]", "must be a string"),
    Case("command-mapping", """\
        services:
          web:
            image: nginx:1.27
            command: {a: b}  # <-
""", "services.web.command", "must be a null"),
    Case("read-only-word", """\
        services:
          web:
            image: nginx:1.27
            read_only: maybe  # <-
""", "services.web.read_only", "must be a boolean"),
    Case("privileged-number", """\
        services:
          web:
            image: nginx:1.27
            privileged: 1  # <-
""", "services.web.privileged", "must be a boolean"),
    Case("restart-list", """\
        services:
          web:
            image: nginx:1.27
            restart: [always]  # <-
""", "services.web.restart", "must be a string"),
    Case("cap-add-string", """\
        services:
          web:
            image: nginx:1.27
            cap_add: NET_ADMIN  # <-
""", "services.web.cap_add", "must be a list"),
    Case("volumes-string", """\
        services:
          web:
            image: nginx:1.27
            volumes: /data  # <-
""", "services.web.volumes", "must be a list"),
    Case("networks-number", """\
        services:
          web:
            image: nginx:1.27
            networks: 5  # <-
""", "services.web.networks", "must be a list"),
    Case("depends-on-number", """\
        services:
          web:
            image: nginx:1.27
            depends_on: 5  # <-
""", "services.web.depends_on", "must be a list"),
    Case("scale-negative", """\
        services:
          web:
            image: nginx:1.27
            scale: -1  # <-
""", "services.web.scale", "0 or more"),
    Case("retries-word", """\
        services:
          web:
            image: nginx:1.27
            healthcheck:
              retries: many  # <-
""", "services.web.healthcheck.retries", "must be a number"),
    Case("replicas-word", """\
        services:
          web:
            image: nginx:1.27
            deploy:
              replicas: two  # <-
""", "services.web.deploy.replicas", "must be an integer"),
    Case("duration-without-unit", """\
        services:
          web:
            image: nginx:1.27
            stop_grace_period: '10'  # <-
""", "services.web.stop_grace_period", "must be a duration", stack_differs=STACK_LENIENT),
    Case("ulimit-without-hard", """\
        services:
          web:
            image: nginx:1.27
            ulimits:
              nofile: {soft: 1}  # <-
""", "services.web.ulimits.nofile", "missing required key 'hard'"),
    Case("extra-hosts-number", """\
        services:
          web:
            image: nginx:1.27
            extra_hosts: 5  # <-
""", "services.web.extra_hosts", "must be a mapping or list"),
    Case("version-number", """\
        version: 3.8  # <-
        services:
          web:
            image: nginx:1.27
""", "version", "must be a string"),
    Case("name-number", """\
        name: 5  # <-
        services:
          web:
            image: nginx:1.27
""", "name", "must be a string"),
    Case("config-null", """\
        services:
          web:
            image: nginx:1.27
        configs:
          site:  # <-
""", "configs.site", "must be a mapping"),
    Case("secret-list", """\
        services:
          web:
            image: nginx:1.27
        secrets:
          token: [a]  # <-
""", "secrets.token", "must be a mapping"),
    Case("top-networks-list", """\
        services:
          web:
            image: nginx:1.27
        networks: [front]  # <-
""", "networks", "must be a mapping"),
    Case("volume-long-without-type", """\
        services:
          web:
            image: nginx:1.27
            volumes:
              - source: data  # <-
                target: /d
""", "services.web.volumes[0]", "missing required key 'type'"),
    Case("depends-on-condition", """\
        services:
          web:
            image: nginx:1.27
            depends_on:
              db:
                condition: started  # <-
          db:
            image: postgres
""", "services.web.depends_on.db.condition", "must be one of"),
    Case("healthcheck-test-word", """\
        services:
          web:
            image: nginx:1.27
            healthcheck:
              test: [RUN, ls]  # <-
""", "services.web.healthcheck.test[0]", "must be one of"),
    Case("cgroup-value", """\
        services:
          web:
            image: nginx:1.27
            cgroup: shared  # <-
""", "services.web.cgroup", "must be one of"),
    Case("watch-action", """\
        services:
          web:
            image: nginx:1.27
            develop:
              watch:
                - path: .
                  action: copy  # <-
""", "services.web.develop.watch[0].action", "must be one of"),
    Case("network-mode-number", """\
        services:
          web:
            image: nginx:1.27
            network_mode: 5  # <-
""", "services.web.network_mode", "network_mode must be"),
    Case("bad-interpolation", """\
        services:
          web:
            image: 'nginx:${}'  # <-
""", "services.web.image", "invalid interpolation format"),
    Case("placement-constraints-string", """\
        services:
          web:
            image: nginx:1.27
            deploy:
              placement:
                constraints: node.role == manager  # <-
""", "services.web.deploy.placement.constraints", "must be a list"),
    Case("placement-constraints-mapping", """\
        services:
          web:
            image: nginx:1.27
            deploy:
              placement:
                constraints:
                  node.role: manager  # <-
""", "services.web.deploy.placement.constraints", "must be a list"),
    Case("placement-constraint-number", """\
        services:
          web:
            image: nginx:1.27
            deploy:
              placement:
                constraints: [5]  # <-
""", "services.web.deploy.placement.constraints[0]", "must be a string"),
    Case("placement-preference-string", """\
        services:
          web:
            image: nginx:1.27
            deploy:
              placement:
                preferences: [node.labels.zone]  # <-
""", "services.web.deploy.placement.preferences[0]", "must be a mapping"),
    Case("placement-max-replicas", """\
        services:
          web:
            image: nginx:1.27
            deploy:
              placement:
                max_replicas_per_node: lots  # <-
""", "services.web.deploy.placement.max_replicas_per_node", "must be an integer"),
    Case("port-word", """\
        services:
          web:
            image: nginx:1.27
            ports: ["http"]  # <-
""", "services.web.ports[0]", "invalid containerPort"),
    Case("port-host-word", """\
        services:
          web:
            image: nginx:1.27
            ports: ["eighty:80"]  # <-
""", "services.web.ports[0]", "invalid hostPort"),
    Case("port-host-70000", """\
        services:
          web:
            image: nginx:1.27
            ports: ["70000:80"]  # <-
""", "services.web.ports[0]", "invalid hostPort: 70000"),
    Case("port-container-70000", """\
        services:
          web:
            image: nginx:1.27
            ports: ["8080:70000"]  # <-
""", "services.web.ports[0]", "invalid containerPort: 70000"),
    Case("port-container-0", """\
        services:
          web:
            image: nginx:1.27
            ports: ["8080:0"]  # <-
""", "services.web.ports[0]", "missing a target", stack_differs=STACK_PORT_ZERO),
    Case("port-host-0", """\
        services:
          web:
            image: nginx:1.27
            ports: ["0:80"]  # <-
""",
    "services.web.ports[0]", "host port 0", compose_differs=PORT_ZERO,
    stack_differs=STACK_PORT_ZERO),
    Case("port-number-0", """\
        services:
          web:
            image: nginx:1.27
            ports: [0]  # <-
""", "services.web.ports[0]", "between 1 and 65535", stack_differs=STACK_PORT_ZERO),
    Case("port-number-70000", """\
        services:
          web:
            image: nginx:1.27
            ports: [70000]  # <-
""", "services.web.ports[0]", "between 1 and 65535"),
    Case("port-number-negative", """\
        services:
          web:
            image: nginx:1.27
            ports: [-1]  # <-
""", "services.web.ports[0]", "between 1 and 65535"),
    Case("port-float", """\
        services:
          web:
            image: nginx:1.27
            ports: [80.5]  # <-
""", "services.web.ports[0]", "must be a string"),
    Case("port-protocol", """\
        services:
          web:
            image: nginx:1.27
            ports: ["80/tcpx"]  # <-
""", "services.web.ports[0]", "invalid proto: tcpx"),
    Case("port-protocol-http", """\
        services:
          web:
            image: nginx:1.27
            ports: ["8080:80/http"]  # <-
""", "services.web.ports[0]", "invalid proto: http"),
    Case("port-range-sizes", """\
        services:
          web:
            image: nginx:1.27
            ports: ["8000-8001:80-82"]  # <-
""", "services.web.ports[0]", "invalid ranges"),
    Case("port-range-reversed", """\
        services:
          web:
            image: nginx:1.27
            ports: ["81-80:80"]  # <-
""", "services.web.ports[0]", "invalid hostPort: 81-80"),
    Case("port-range-open", """\
        services:
          web:
            image: nginx:1.27
            ports: ["8000-:80"]  # <-
""", "services.web.ports[0]", "invalid hostPort"),
    Case("port-ip-octet", """\
        services:
          web:
            image: nginx:1.27
            ports: ["300.1.1.1:80:80"]  # <-
""", "services.web.ports[0]", "invalid IP address"),
    Case("port-ip-hostname", """\
        services:
          web:
            image: nginx:1.27
            ports: ["localhost:80:80"]  # <-
""", "services.web.ports[0]", "invalid IP address"),
    Case("port-ip-zone", """\
        services:
          web:
            image: nginx:1.27
            ports: ["fe80::1%eth0:80:80"]  # <-
""", "services.web.ports[0]", "invalid IP address"),
    Case("port-ip-colon", """\
        services:
          web:
            image: nginx:1.27
            ports: [":::80"]  # <-
""", "services.web.ports[0]", "invalid IP address"),
    Case("port-ip-without-host-port", """\
        services:
          web:
            image: nginx:1.27
            ports: ["127.0.0.1:80"]  # <-
""", "services.web.ports[0]", "invalid hostPort: 127.0.0.1"),
    Case("port-empty-variable", """\
        services:
          web:
            image: nginx:1.27
            ports: ["${PORT}"]  # <-
""", "services.web.ports[0]", "invalid proto"),
    Case("host-ip-hostname", """\
        services:
          web:
            image: nginx:1.27
            ports:
              - target: 80
                host_ip: localhost  # <-
""", "services.web.ports[0].host_ip", "'localhost' is not an IP address"),
    Case("host-ip-brackets", """\
        services:
          web:
            image: nginx:1.27
            ports:
              - target: 80
                host_ip: "[::1]"  # <-
""", "services.web.ports[0].host_ip", "'[::1]' is not an IP address"),
    Case("host-ip-empty", """\
        services:
          web:
            image: nginx:1.27
            ports:
              - target: 80
                host_ip: ""  # <-
""", "services.web.ports[0].host_ip", "'' is not an IP address"),
    Case("host-ip-number", """\
        services:
          web:
            image: nginx:1.27
            ports:
              - target: 80
                host_ip: 10  # <-
""", "services.web.ports[0].host_ip", "host_ip must be"),
    Case("long-port-without-target", """\
        services:
          web:
            image: nginx:1.27
            ports:
              - published: 8080  # <-
""", "services.web.ports[0]", "missing required key 'target'", stack_differs=STACK_TARGET),
    Case("long-target-0", """\
        services:
          web:
            image: nginx:1.27
            ports:
              - target: 0  # <-
""",
    "services.web.ports[0].target", "between 1 and 65535", compose_differs=LONG_PORT_RANGE,
    stack_differs=STACK_LONG),
    Case("long-target-70000", """\
        services:
          web:
            image: nginx:1.27
            ports:
              - target: 70000  # <-
""",
    "services.web.ports[0].target", "between 1 and 65535", compose_differs=LONG_PORT_RANGE,
    stack_differs=STACK_LONG),
    Case("long-published-70000", """\
        services:
          web:
            image: nginx:1.27
            ports:
              - target: 80
                published: 70000  # <-
""",
    "services.web.ports[0].published", "between 1 and 65535", compose_differs=LONG_PORT_RANGE,
    stack_differs=STACK_LONG),
    Case("long-published-word", """\
        services:
          web:
            image: nginx:1.27
            ports:
              - target: 80
                published: http  # <-
""", "services.web.ports[0].published", "published port", compose_differs=LONG_PUBLISHED),
    Case("long-published-reversed", """\
        services:
          web:
            image: nginx:1.27
            ports:
              - target: 80
                published: "8010-8000"  # <-
""", "services.web.ports[0].published", "START-END", compose_differs=LONG_PUBLISHED),
    Case("long-protocol", """\
        services:
          web:
            image: nginx:1.27
            ports:
              - target: 80
                protocol: http  # <-
""",
    "services.web.ports[0].protocol", "tcp, udp or sctp", compose_differs=LONG_PROTOCOL,
    stack_differs=STACK_LONG),
    Case("long-mode", """\
        services:
          web:
            image: nginx:1.27
            ports:
              - target: 80
                mode: public  # <-
""",
    "services.web.ports[0].mode", 'must be one of "host", "ingress"', compose_differs=LONG_MODE,
    stack_differs=STACK_LONG),
    Case("long-target-word", """\
        services:
          web:
            image: nginx:1.27
            ports:
              - target: http  # <-
""", "services.web.ports[0].target", "between 1 and 65535"),
    Case("network-mode-name", """\
        services:
          web:
            image: nginx:1.27
            network_mode: mynet  # <-
""",
    "services.web.network_mode", "network_mode must be", compose_differs=NETWORK_MODE,
    stack_differs=STACK_NETWORK_MODE),
    Case("network-mode-typo", """\
        services:
          web:
            image: nginx:1.27
            network_mode: hots  # <-
""",
    "services.web.network_mode", "network_mode must be", compose_differs=NETWORK_MODE,
    stack_differs=STACK_NETWORK_MODE),
    Case("network-mode-empty-service", """\
        services:
          web:
            image: nginx:1.27
            network_mode: 'service:'  # <-
""", "services.web.network_mode", "network_mode must be", stack_differs=STACK_NETWORK_MODE),
]


# --------------------------------------------------------------------------- stack files

STACK_VALID = [
    Case("stack-minimal", """\
        version: '3.8'
        services:
          web:
            image: nginx:1.27
"""),
    Case("stack-no-version", """\
        services:
          web:
            image: nginx:1.27
"""),
    Case("stack-ports", """\
        version: '3.8'
        services:
          web:
            image: nginx:1.27
            ports:
              - "8080:80"
              - "9000-9001:9000-9001/udp"
              - 443
              - target: 53
                published: 53
                protocol: udp
                mode: host
"""),
    Case("stack-deploy", """\
        version: '3.8'
        services:
          web:
            image: nginx:1.27
            deploy:
              mode: global
              placement:
                constraints: [node.role == worker]
                preferences: [{spread: node.labels.zone}]
              resources:
                limits: {cpus: '0.5', memory: 50M}
              restart_policy: {condition: on-failure, max_attempts: 3}
"""),
    Case("stack-interpolated", """\
        version: '3.8'
        services:
          web:
            image: nginx:1.27
            deploy:
              replicas: ${REPLICAS:-2}
            ports:
              - target: 80
                published: ${PORT:-8080}
"""),
    Case("stack-networks", """\
        version: '3.8'
        services:
          web:
            image: nginx:1.27
            networks: [front]
        networks:
          front:
            driver: overlay
            attachable: true
"""),
    Case("stack-every-interface", """\
        version: '3.8'
        services:
          web:
            image: nginx:1.27
            ports: ["0.0.0.0:8080:80", "[::]:8081:81", ":::8082:82"]
"""),
    Case("stack-quoted-number", """\
        version: '3.8'
        services:
          web:
            image: nginx:1.27
            deploy:
              replicas: '2'
""", stack_differs=STACK_LITERAL),
]

STACK_INVALID = [
    Case("stack-short-host-ip", """\
        version: '3.8'
        services:
          web:
            image: nginx:1.27
            ports: ["127.0.0.1:8080:80"]  # <-
""", "services.web.ports[0]", "ignores the host IP", stack_differs=STACK_HOST_IP),
    Case("stack-short-host-ipv6", """\
        version: '3.8'
        services:
          web:
            image: nginx:1.27
            ports: ["[::1]:8080:80"]  # <-
""", "services.web.ports[0]", "ignores the host IP", stack_differs=STACK_HOST_IP),
    Case("stack-long-host-ip", """\
        version: '3.8'
        services:
          web:
            image: nginx:1.27
            ports:
              - target: 80
                host_ip: 127.0.0.1  # <-
""", "services.web.ports[0].host_ip", "unknown key"),
    Case("stack-long-published-range", """\
        version: '3.8'
        services:
          web:
            image: nginx:1.27
            ports:
              - target: 80
                published: "8000-8010"  # <-
""", "services.web.ports[0].published", "an integer between 1 and 65535"),
    Case("stack-long-name", """\
        version: '3.8'
        services:
          web:
            image: nginx:1.27
            ports:
              - target: 80
                name: web  # <-
""", "services.web.ports[0].name", "unknown key"),
    Case("stack-long-mode", """\
        version: '3.8'
        services:
          web:
            image: nginx:1.27
            ports:
              - target: 80
                mode: public  # <-
""", "services.web.ports[0].mode", "must be one of", stack_differs=STACK_LONG),
    Case("stack-top-level-name", """\
        version: '3.8'
        name: shop  # <-
        services:
          web:
            image: nginx:1.27
""", "name", "unknown key"),
    Case("stack-version-2", """\
        version: '2.4'  # <-
        services:
          web:
            image: nginx:1.27
""", "version", "3.x"),
    Case("stack-forbidden-volumes-from", """\
        version: '3.8'
        services:
          web:
            image: nginx:1.27
            volumes_from: [db]  # <-
""", "services.web.volumes_from", "not supported by docker stack deploy"),
    Case("stack-forbidden-mem-limit", """\
        version: '3.8'
        services:
          web:
            image: nginx:1.27
            mem_limit: 1g  # <-
""", "services.web.mem_limit", "not supported by docker stack deploy"),
    Case("stack-compose-only-key", """\
        version: '3.8'
        services:
          web:
            image: nginx:1.27
            profiles: [debug]  # <-
""", "services.web.profiles", "unknown key"),
    Case("stack-depends-on-long", """\
        version: '3.8'
        services:
          web:
            image: nginx:1.27
            depends_on:
              db:  # <-
                condition: service_started
          db:
            image: postgres
""", "services.web.depends_on", "must be a list"),
    Case("stack-placement-string", """\
        version: '3.8'
        services:
          web:
            image: nginx:1.27
            deploy:
              placement:
                constraints: node.role == manager  # <-
""", "services.web.deploy.placement.constraints", "must be a list"),
    Case("stack-placement-unknown", """\
        version: '3.8'
        services:
          web:
            image: nginx:1.27
            deploy:
              placement:
                spread: zone  # <-
""", "services.web.deploy.placement.spread", "unknown key"),
    Case("stack-placement-preference", """\
        version: '3.8'
        services:
          web:
            image: nginx:1.27
            deploy:
              placement:
                preferences:
                  - zone: a  # <-
""", "services.web.deploy.placement.preferences[0].zone", "unknown key"),
    Case("stack-deploy-extension", """\
        version: '3.8'
        services:
          web:
            image: nginx:1.27
            deploy:
              x-tier: front  # <-
""", "services.web.deploy.x-tier", "unknown key"),
    Case("stack-cpus-number", """\
        version: '3.8'
        services:
          web:
            image: nginx:1.27
            deploy:
              resources:
                limits:
                  cpus: 0.5  # <-
""", "services.web.deploy.resources.limits.cpus", "must be a string"),
    Case("stack-environment-boolean", """\
        version: '3.8'
        services:
          web:
            image: nginx:1.27
            environment:
              DEBUG: true  # <-
""", "services.web.environment.DEBUG", "must be a string, number or null"),
    Case("stack-network-mode", """\
        version: '3.8'
        services:
          web:
            image: nginx:1.27
            network_mode: mynet  # <-
""", "services.web.network_mode", "network_mode must be", stack_differs=STACK_NETWORK_MODE),
    Case("stack-port-70000", """\
        version: '3.8'
        services:
          web:
            image: nginx:1.27
            ports: ["70000:80"]  # <-
""", "services.web.ports[0]", "invalid hostPort"),
]

ALL_TABLES = VALID + INVALID
EVERY_CASE = ALL_TABLES + STACK_VALID + STACK_INVALID


def _ids(cases: list[Case]) -> list[str]:
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    return ids


# --------------------------------------------------------------------------- running files


def check_text(
    text: str, *, target: str = "compose", env: Mapping[str, str] | None = None,
    name: str = "compose.yaml",
) -> list[ComposeNetError]:
    try:
        doc = document.load(source.Source(name, text, False))
        return schema.check_document(doc, target=target, env=env or {})
    except ComposeNetError as e:
        return [e.with_path(name)]


def run_reference(argv: Callable[[str], list[str]], text: str) -> tuple[bool, str]:
    """Run a reference binary on ``text`` in an empty folder with an empty environment."""
    with tempfile.TemporaryDirectory(prefix="schema-ref-") as base:
        home = os.path.join(base, "home")
        project = os.path.join(base, "project")
        os.makedirs(os.path.join(home, ".docker"))
        os.makedirs(project)
        path = os.path.join(project, "compose.yaml")
        Path(path).write_text(text, encoding="utf-8")
        env = {"PATH": "/usr/bin:/bin", "HOME": home,
               "DOCKER_CONFIG": os.path.join(home, ".docker"),
               "DOCKER_HOST": f"unix://{home}/no-daemon.sock"}
        # once per run for the same text, whichever worker asks first (tests/harness/oracle.py)
        proc = oracle.run(argv(os.path.basename(path)), Path(project), env)
        return proc.returncode == 0, proc.stderr.strip()


def verdicts(argv: Callable[[str], list[str]], texts: list[str]) -> list[tuple[bool, str]]:
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda text: run_reference(argv, text), texts))


@pytest.fixture(scope="module")
def compose_verdicts(compose_bin: str) -> dict[str, tuple[bool, str]]:
    def argv(path: str) -> list[str]:
        return [compose_bin, "--profile", "*", "-f", path, "config", "--format", "json"]

    return dict(zip(_ids(ALL_TABLES), verdicts(argv, [c.text for c in ALL_TABLES])))


def docker_stack() -> Callable[[str], list[str]]:
    docker = docker_cli()
    require(docker is not None, "the docker CLI is not installed (docker stack config)")
    return lambda path: [str(docker), "stack", "config", "-c", path]


@pytest.fixture(scope="module")
def stack_verdicts() -> dict[str, tuple[bool, str]]:
    return dict(zip(_ids(EVERY_CASE), verdicts(docker_stack(), [c.text for c in EVERY_CASE])))


# --------------------------------------------------------------------------- compose-net's verdicts


@pytest.mark.parametrize("case", VALID, ids=_ids(VALID))
def test_valid_files_validate(case: Case) -> None:
    assert [str(e) for e in check_text(case.text)] == []


@pytest.mark.parametrize("case", INVALID, ids=_ids(INVALID))
def test_invalid_files_point_at_the_defect(case: Case) -> None:
    errors = check_text(case.text)
    assert len(errors) == 1, [str(e) for e in errors]
    error = errors[0]
    assert (error.path, error.line) == ("compose.yaml", case.line), str(error)
    assert error.message.startswith((f"{case.where}: ", f"{case.where} ")), str(error)
    assert case.says in error.message, str(error)


@pytest.mark.parametrize("case", STACK_VALID, ids=_ids(STACK_VALID))
def test_valid_stacks_validate(case: Case) -> None:
    assert [str(e) for e in check_text(case.text, target="stack")] == []


@pytest.mark.parametrize("case", STACK_INVALID, ids=_ids(STACK_INVALID))
def test_invalid_stacks_point_at_the_defect(case: Case) -> None:
    errors = check_text(case.text, target="stack")
    assert len(errors) == 1, [str(e) for e in errors]
    assert errors[0].line == case.line, str(errors[0])
    assert errors[0].message.startswith(f"{case.where}: "), str(errors[0])
    assert case.says in errors[0].message, str(errors[0])


# ---------------------------------------------------------------------- the references' verdicts


@pytest.mark.compose
@pytest.mark.parametrize("case", ALL_TABLES, ids=_ids(ALL_TABLES))
def test_compose_agrees_or_the_difference_is_documented(
    case: Case, compose_verdicts: dict[str, tuple[bool, str]],
) -> None:
    accepted, stderr = compose_verdicts[case.id]
    if case.compose_differs:
        assert accepted != case.valid, f"the difference is gone ({case.compose_differs}): {stderr}"
    else:
        verdict = "accepts" if accepted else "rejects"
        assert accepted == case.valid, f"compose {verdict} it: {stderr}"


@pytest.mark.compose
@pytest.mark.parametrize("case", EVERY_CASE, ids=_ids(EVERY_CASE))
def test_docker_stack_agrees_or_the_difference_is_documented(
    case: Case, stack_verdicts: dict[str, tuple[bool, str]],
) -> None:
    accepted, stderr = stack_verdicts[case.id]
    ours = not check_text(case.text, target="stack")
    if case.stack_differs:
        assert accepted != ours, f"the difference is gone ({case.stack_differs}): {stderr}"
    else:
        assert accepted == ours, (f"docker stack config {'accepts' if accepted else 'rejects'} it, "
                                  f"compose-net {'accepts' if ours else 'rejects'} it: {stderr}")


def test_the_tables() -> None:
    used = {why for case in EVERY_CASE for why in (case.compose_differs, case.stack_differs) if why}
    assert used == DOCUMENTED  # every difference is a documented one, and each is used
    assert len(INVALID) >= 60
    assert all(case.line is not None for case in INVALID + STACK_INVALID)
    assert all(case.valid and not case.where for case in VALID + STACK_VALID)


# --------------------------------------------------------------------------- the corpus


def _corpus_accepted() -> list[str]:
    summary = CORPUS / "oracle" / "SUMMARY.tsv"
    if not summary.is_file():
        return []
    with summary.open(encoding="utf-8") as f:
        return [row["path"] for row in csv.DictReader(f, delimiter="\t") if row["ok"] == "true"]


CORPUS_ACCEPTED = _corpus_accepted()


def _require_corpus() -> None:
    require(bool(CORPUS_ACCEPTED), f"the corpus is not at {CORPUS}")


@pytest.mark.parametrize("rel", CORPUS_ACCEPTED or ["(no corpus)"])
def test_corpus_files_compose_accepts_validate(rel: str) -> None:
    _require_corpus()
    doc = document.load(source.read(str(CORPUS / rel)))
    assert [str(e) for e in schema.check_document(doc, target="compose", env={})] == []


def test_corpus_is_all_there() -> None:
    _require_corpus()
    assert len(CORPUS_ACCEPTED) >= 600


@pytest.mark.compose
@pytest.mark.slow
def test_corpus_stacks_docker_accepts_validate_as_stacks() -> None:
    """Swarm files of the corpus that ``docker stack config`` accepts are valid stacks,
    but for the documented host-IP difference (STACK_HOST_IP)."""
    _require_corpus()
    swarm = ("swarm-", "docker-cli-stack")
    rels = [r for r in CORPUS_ACCEPTED if r.split("/")[1].startswith(swarm)]
    texts = [(CORPUS / rel).read_text(encoding="utf-8") for rel in rels]
    results = verdicts(docker_stack(), texts)
    accepted = [(rel, text) for rel, text, (ok, _) in zip(rels, texts, results) if ok]
    assert len(accepted) >= 30
    for rel, text in accepted:
        errors = [str(e) for e in check_text(text, target="stack", name=rel)]
        assert all("ignores the host IP" in e for e in errors), errors


# --------------------------------------------------------------------------- API tables


BAD_PORT = "services.web.ports[0]: invalid port '70000:80': invalid hostPort: 70000"


def svc(body: str, tail: str = "") -> str:
    return "services:\n  web:\n    image: nginx\n" + body + tail


@pytest.mark.parametrize(("path", "text"), [
    ((), ""),
    (("services",), "services"),
    (("services", "web", "ports", 1), "services.web.ports[1]"),
    (("services", "web", "labels", "com.example.a"), 'services.web.labels["com.example.a"]'),
    (("services", "my app", "x-y"), 'services["my app"].x-y'),
    ((0, "a"), "[0].a"),
], ids=["empty", "one", "ports", "dotted-key", "spaced-key", "index-first"])
def test_format_path(path: tuple[str | int, ...], text: str) -> None:
    assert schema.format_path(path) == text


@pytest.mark.parametrize(("value", "env", "expected", "marker"), [
    ("80:80", {}, "80:80", str),
    ("${PORT:-8080}:80", {}, "8080:80", str),
    ("${PORT:-8080}:80", {"PORT": "9000"}, "9000:80", str),
    ("${PORT}:80", {}, ":80", str),
    ("$$PORT", {}, "$PORT", str),
    ("${PORT:?set it}:80", {}, "${PORT:?set it}:80", schema.Unresolved),
    ("${PORT:?set it}:80", {"PORT": "1"}, "1:80", str),
    ("${}", {}, "${}", schema.BadTemplate),
    ("${A", {}, "${A", schema.BadTemplate),
], ids=["plain", "default", "set", "unset", "escape", "required-missing", "required-set",
        "empty-braces", "unclosed"])
def test_interpolated_strings(value: str, env: dict[str, str], expected: str, marker: type) -> None:
    out = schema.interpolated({"k": [value, 5, None, True]}, env)
    assert out == {"k": [expected, 5, None, True]}
    assert isinstance(out, dict)
    kind = type(out["k"][0])  # a value variables filled is marked: messages never quote it
    assert kind is marker or (marker is str and kind is schema.Interpolated)


def test_interpolated_leaves_keys_alone() -> None:
    assert schema.interpolated({"${A:-x}": "${A:-x}"}, {}) == {"${A:-x}": "x"}


NODE_NAME = ("a node name starts with a letter or digit and holds only letters, digits, "
             "'.', '_' and '-'")
FULL_CONFIG = {
    "bind": ["127.0.0.1", "::1"], "bind-var": "BIND_IP",
    "allow": ["web", "web:8080", "*:443/tcp", {"service": "db", "port": 5432, "reason": "sync"}],
    "select": ["CN001"], "ignore": ["CN002"], "target": "stack", "stack-strategy": "host-mode",
    "inventory": "nodes.yaml", "internal-networks": ["100.64.0.0/10"],
}
FULL_NODE = {"public": {"ipv4": "203.0.113.7"}, "service": {"ipv4": "10.0.0.7", "ipv6": "fd00::7"},
             "role": "manager", "labels": {"zone": "a"}, "hostname": "n1", "id": "abc"}


@pytest.mark.parametrize(("data", "target", "expected"), [
    ({"nodes": {"n1": FULL_NODE}}, "inventory", []),
    ({"nodes": {"n1": None}, "x-note": 1}, "inventory", []),
    ({"nodes": {"n1": {"service": {"ipv4": "fd00::7"}}}}, "inventory",
     [(("nodes", "n1", "service", "ipv4"), "'fd00::7' is not an IPv4 address")]),
    ({"nodes": {"n1": {"role": "boss"}}}, "inventory",
     [(("nodes", "n1", "role"), 'must be one of "manager", "worker", null')]),
    ({"nodes": {"n1": {"adress": {}}}}, "inventory",
     [(("nodes", "n1", "adress"), "unknown key 'adress'")]),
    ({"nodes": {"-bad": {}}}, "inventory", [(("nodes", "-bad"), NODE_NAME)]),
    ({}, "inventory", [((), "missing required key 'nodes'")]),
    (FULL_CONFIG, "config", []),
    ({"bind": ["localhost"]}, "config", [(("bind", 0), "'localhost' is not an IP address")]),
    ({"bind": []}, "config", [(("bind",), "[] should be non-empty")]),
    ({"bind-var": "1X"}, "config",
     [(("bind-var",),
       "must be a variable name (letters, digits and '_', not starting with a digit)")]),
    ({"allow": ["web:http"]}, "config",
     [(("allow", 0), "expected SERVICE, SERVICE:PORT or {service, port, reason}")]),
    ({"allow": [{"port": 80}]}, "config",
     [(("allow", 0), "expected SERVICE, SERVICE:PORT or {service, port, reason}")]),
    ({"target": "swarm"}, "config", [(("target",), 'must be one of "compose", "stack"')]),
    ({"stack-strategy": "drop"}, "config",
     [(("stack-strategy",), 'must be one of "unpublish", "internal-network", "host-mode"')]),
    ({"internal-networks": ["10.0.0.1/8"]}, "config",
     [(("internal-networks", 0),
       "'10.0.0.1/8' is not a network in CIDR notation (10.0.0.1/8 has host bits set)")]),
    ({"binds": ["127.0.0.1"]}, "config",
     [(("binds",), "unknown key 'binds' (did you mean 'bind'?)")]),
], ids=["inventory-full", "inventory-null-node", "inventory-family", "inventory-role",
        "inventory-unknown", "inventory-name", "inventory-empty", "config-full", "config-bind",
        "config-bind-empty", "config-bind-var", "config-allow", "config-allow-object",
        "config-target", "config-strategy", "config-cidr", "config-unknown"])
def test_own_files(
    data: object, target: str, expected: list[tuple[tuple[str | int, ...], str]],
) -> None:
    assert [tuple(v) for v in schema.validate(data, target=target)] == expected


WEB = {"image": "x"}


@pytest.mark.parametrize(("data", "expected"), [
    ({"services": {"web": {**WEB, "ports": ["70000:80"]}}, "foo": 1},
     [(("foo",), "unknown key 'foo'"),
      (("services", "web", "ports", 0), "invalid port '70000:80': invalid hostPort: 70000")]),
    ({"services": {"web": {"image": schema.Unresolved("${IMAGE:?}"),
                           "read_only": schema.Unresolved("${RO:?}"),
                           "ports": [schema.Unresolved("${P:?}")]}}}, []),
    ({"services": {"web": {"image": schema.BadTemplate("${", "bad"),
                           "x-a": schema.BadTemplate("$}", "worse")}}},
     [(("services", "web", "image"), "bad"), (("services", "web", "x-a"), "worse")]),
    ({"services": {"web": {**WEB, "ports": [{"target": 80, "protocol": "http", "mode": "x"}]}}},
     [(("services", "web", "ports", 0, "protocol"), "the protocol must be tcp, udp or sctp"),
      (("services", "web", "ports", 0, "mode"), 'must be one of "host", "ingress"')]),
    ({"services": {"web": {**WEB, "ports": ["0:80"]}}},
     [(("services", "web", "ports", 0), "invalid port '0:80': host port 0 is not a port (1-65535); "
                                        "leave the host port out to let Docker choose one")]),
], ids=["best-first", "unresolved-accepted", "bad-template-reported", "one-error-per-place",
        "own-check-beats-pattern"])
def test_validate_data(data: object, expected: list[tuple[tuple[str | int, ...], str]]) -> None:
    assert [tuple(v) for v in schema.validate(data, target="compose")] == expected


def test_unknown_target() -> None:
    with pytest.raises(ValueError, match="unknown schema target 'swarm'"):
        schema.validate({}, target="swarm")


def test_check_document_orders_errors_best_first_then_by_line() -> None:
    body = '    ports:\n      - "70000:80"\n    read_only: maybe\n    prots: []\n'
    text = svc(body, "bogus: 1\n")
    assert [str(e) for e in check_text(text)] == [
        "compose.yaml:8:1: bogus: unknown key 'bogus'",
        "compose.yaml:5:9: services.web.ports[0]: invalid port '70000:80': invalid hostPort: 70000",
        "compose.yaml:6:16: services.web.read_only: must be a boolean (true/false, yes/no, on/off)",
        "compose.yaml:7:5: services.web.prots: unknown key 'prots' (did you mean 'ports'?)",
    ]


def test_errors_inside_merged_anchors_point_at_the_anchor() -> None:
    text = 'x-base: &base\n  ports: ["80:80/http"]\n' + svc("    <<: *base\n")
    assert [str(e) for e in check_text(text)] == [
        "compose.yaml:2:11: services.web.ports[0]: invalid port '80:80/http': invalid proto: http",
    ]


BOOLEAN = "must be a boolean (true/false, yes/no, on/off)"


@pytest.mark.parametrize(("text", "env", "expected"), [
    (svc('    ports: ["${PORT}:80"]\n'), {"PORT": "70000"},
     ["compose.yaml:4:13: services.web.ports[0]: invalid port: the host port from ${PORT} is "
      "not a port (1-65535) or a range of ports"]),
    (svc('    ports: ["${PORT}:80"]\n'), {"PORT": "8080"}, []),
    (svc("    read_only: ${RO}\n"), {}, [f"compose.yaml:4:16: services.web.read_only: {BOOLEAN}"]),
    (svc("    read_only: ${RO:-false}\n"), {}, []),
], ids=["bad-value-from-env", "good-value-from-env", "unset-becomes-empty", "default"])
def test_values_are_judged_after_interpolation(
    text: str, env: dict[str, str], expected: list[str],
) -> None:
    assert [str(e) for e in check_text(text, env=env)] == expected


def test_reset_removes_the_attribute_before_validation() -> None:
    assert check_text(svc("    ports: !reset null\n    read_only: !reset maybe\n")) == []


def test_jsonschema_is_imported_only_to_explain_an_invalid_value() -> None:
    code = ("import sys; import compose_net.schema as s; assert 'jsonschema' not in sys.modules; "
            "s.format_path(('a',)); s.interpolated({'a': '${B:-c}'}, {}); "
            "assert s.validate({}, target='config') == []; "
            "assert 'jsonschema' not in sys.modules; "
            "assert s.validate({'x': 1}, target='config') != []; "
            "assert 'jsonschema' in sys.modules")
    root = str(Path(__file__).resolve().parents[1])
    path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": path}, check=False, timeout=60)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("target", schema.TARGETS)
def test_validator_is_built_once(target: str) -> None:
    first = schema._validator(target)
    schema.validate({}, target=target)
    assert schema._validator(target) is first


def _keyword_values(node: object, keyword: str) -> set[str]:
    if isinstance(node, dict):
        found = {node[keyword]} if isinstance(node.get(keyword), str) else set()
        return found.union(*(_keyword_values(v, keyword) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_keyword_values(v, keyword) for v in node))
    return set()


@pytest.mark.parametrize("target", schema.TARGETS)
def test_every_check_a_schema_names_exists(target: str) -> None:
    named = _keyword_values(schema.load_schema(target), "composeNetCheck")
    assert named and named <= set(schema._CHECKS)


# --------------------------------------------------------------------------- the validate command

SWARM_IP = ("services.web.ports[0]: invalid port '127.0.0.1:80:80': docker stack deploy ignores "
            "the host IP and publishes on every interface of every node")
BAD_TARGET = "compose-net: error: unknown target 'swarm' (expected compose or stack)"


@pytest.mark.parametrize(("files", "target", "code", "stderr"), [
    ({"ok.yml": svc("")}, "compose", 0, []),
    ({"bad.yml": svc('    ports: ["70000:80"]\n')}, "compose", 2,
     [f"{{d}}/bad.yml:4:13: {BAD_PORT}"]),
    ({"ok.yml": svc(""), "bad.yml": svc("    foo: 1\n")}, "compose", 2,
     ["{d}/bad.yml:4:5: services.web.foo: unknown key 'foo'"]),
    ({"yaml.yml": "services:\n  web: [\n"}, "compose", 2, None),
    ({"ip.yml": svc('    ports: ["127.0.0.1:80:80"]\n')}, "stack", 2,
     [f"{{d}}/ip.yml:4:13: {SWARM_IP}"]),
    ({"ip.yml": svc('    ports: ["127.0.0.1:80:80"]\n')}, "compose", 0, []),
    ({"ok.yml": svc("")}, "swarm", 2, [BAD_TARGET]),
    ({"docs.yml": svc("") + "---\n" + svc('    ports: ["70000:80"]\n')}, "compose", 2,
     [f"{{d}}/docs.yml:8:13: {BAD_PORT}"]),
    ({"docs.yml": svc("") + "---\n" + svc('    ports: ["80:80"]\n')}, "compose", 0, []),
], ids=["valid", "invalid", "two-files", "bad-yaml", "stack", "compose-allows-ip", "bad-target",
        "second-document-invalid", "documents-valid"])
def test_validate_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, str], target: str,
    code: int, stderr: list[str] | None,
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    paths = [str(tmp_path / name) for name in sorted(files, reverse=True)]
    assert validate_command.run(paths, target=target, env={}) == code
    out, err = capsys.readouterr()
    # a valid file is one line on standard output, an invalid one none
    invalid = {line.format(d=tmp_path).split(":", 1)[0] for line in stderr or []}
    checked = stderr is not None and target in ("compose", "stack")
    valid = [p for p in paths if p not in invalid] if checked else []
    assert out == "".join(f"{p}: valid {target} file\n" for p in valid)
    lines = err.splitlines()
    if stderr is None:  # a parse error: one line with the file and the position
        assert len(lines) == 1, lines
        assert lines[0].startswith(f"compose-net: error: {tmp_path}/yaml.yml:3:1: invalid YAML")
    else:
        assert lines == [line.format(d=tmp_path) for line in stderr]


def test_validate_command_reports_a_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert validate_command.run(["/nonexistent/compose.yaml"], target="compose", env={}) == 2
    assert capsys.readouterr().err == (
        "compose-net: error: /nonexistent/compose.yaml: No such file or directory\n"
    )


# --------------------------------------------------------------------------- speed


@pytest.mark.slow
def test_two_thousand_services_validate_well_under_a_second() -> None:
    """CPU time, best of three: wall time on a busy machine says more about the machine."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    try:
        import validate_bench
    finally:
        sys.path.pop(0)
    doc = document.load(source.Source("big.yml", validate_bench.generate(2000), False))
    assert schema.check_document(doc, target="compose", env={}) == []
    best = min(cpu_time(lambda: schema.check_document(doc, target="compose", env={}))
               for _ in range(3))
    assert best < 1.0, f"{best:.3f}s"


def cpu_time(fn: Callable[[], object]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start
