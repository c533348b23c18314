"""Nodes from the Docker API: every node of a swarm, or the host of a plain engine.

The only module that imports the docker SDK, and only inside its functions. The engine is
the one the docker CLI would talk to: ``DOCKER_HOST`` (with ``DOCKER_TLS_VERIFY`` and
``DOCKER_CERT_PATH``) when set, else ``DOCKER_CONTEXT`` or the current context of the
docker configuration, else the default socket.

* On a swarm manager: every node, with its hostname, ID, role, labels and its address in the
  node list (``Status.Addr``: a manager's advertised address; for a worker, the address the
  managers see it connect from). A node label ``compose-net.service-ipv4`` /
  ``compose-net.service-ipv6`` overrides that address; a node whose address is public has
  no internal address unless such a label gives one.
* Elsewhere (a plain engine, or a swarm worker): the engine host's own addresses, listed by a
  throwaway container on the host's network (``network_mode=host``) and classified as
  ``compose-net addr`` classifies them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import ipaddress
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from compose_net import paths
from compose_net.errors import ComposeNetError
from compose_net.policy.addresses import Network
from compose_net.resolvers import local
from compose_net.resolvers.inventory import Engine, Inventory, Node

LABEL_IPV4 = "compose-net.service-ipv4"
LABEL_IPV6 = "compose-net.service-ipv6"
PROBE_COMMAND = ("ip", "-o", "addr", "show")


def _config_dir() -> str:
    return os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")


#: the docker CLI's configuration and context files are small; a larger one is not read
_JSON_BYTES = 1024 * 1024


def _json(path: str) -> Any:
    """A JSON file of the docker CLI's own configuration (the user's, not a project's):
    read through the path policy, regular files only, bounded."""
    from compose_net import source

    return json.loads(source.read_regular(path, _JSON_BYTES).decode("utf-8"))


def current_context() -> str:
    """``DOCKER_CONTEXT``, else the ``currentContext`` of the docker configuration, else default."""
    name = os.environ.get("DOCKER_CONTEXT")
    if name:
        return name
    try:
        data = _json(os.path.join(_config_dir(), "config.json"))
    except (ComposeNetError, ValueError):
        return "default"
    value = data.get("currentContext") if isinstance(data, dict) else None
    return value if isinstance(value, str) and value else "default"


@dataclass(frozen=True)
class Endpoint:
    """A context's docker endpoint, as the docker CLI stores it."""

    host: str
    skip_tls_verify: bool = False
    ca: str | None = None
    cert: str | None = None
    key: str | None = None


def context_endpoint(name: str) -> Endpoint:
    """Read context ``name`` from the CLI's context store (``contexts/meta/<sha256 of name>``)."""
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()
    store = os.path.join(_config_dir(), "contexts")
    meta_path = os.path.join(store, "meta", digest, "meta.json")
    if not os.path.lexists(meta_path):
        raise ComposeNetError(f"docker context {name!r} does not exist")
    try:
        meta = _json(meta_path)
    except (ComposeNetError, ValueError) as e:
        raise ComposeNetError(f"docker context {name!r} cannot be read: {e}") from None
    if not isinstance(meta, dict):
        raise ComposeNetError(f"docker context {name!r} cannot be read: not a JSON object")
    endpoint = (meta.get("Endpoints") or {}).get("docker") or {}
    host = endpoint.get("Host")
    if not isinstance(host, str) or not host:
        raise ComposeNetError(f"docker context {name!r} has no docker endpoint")
    tls = os.path.join(store, "tls", digest, "docker")
    found = {n: os.path.join(tls, f"{n}.pem") for n in ("ca", "cert", "key")}
    pem = {n: (p if os.path.isfile(p) else None) for n, p in found.items()}
    return Endpoint(host, bool(endpoint.get("SkipTLSVerify")), pem["ca"], pem["cert"], pem["key"])


#: requests lets these replace a session's own CA on every request; the docker CLI trusts
#: only the CA of DOCKER_CERT_PATH or of the context.
_CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


@contextlib.contextmanager
def _engine_ca_only(tls: bool) -> Iterator[None]:
    """While the client is made (it asks the engine its API version): no CA bundle variables."""
    saved = {k: os.environ.pop(k) for k in _CA_BUNDLE_VARIABLES if tls and k in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def _pin_verify(client: Any) -> Any:
    """Keep the engine's CA (or no verification) for every later request, as the CLI does."""
    api = client.api
    verify = getattr(api, "verify", True)
    if verify is True:
        return client
    merge = api.merge_environment_settings

    def merge_keeping_verify(*args: Any, **kwargs: Any) -> Any:
        settings = merge(*args, **kwargs)
        settings["verify"] = verify
        return settings

    api.merge_environment_settings = merge_keeping_verify
    return client


def connect() -> Any:
    """A docker SDK client for the engine the docker CLI would use."""
    import docker
    from docker.errors import DockerException
    from docker.tls import TLSConfig

    try:
        name = "default" if os.environ.get("DOCKER_HOST") else current_context()
        if name == "default":
            # DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH
            tls_env = bool(
                os.environ.get("DOCKER_TLS_VERIFY") or os.environ.get("DOCKER_CERT_PATH")
            )
            with _engine_ca_only(tls_env):
                return _pin_verify(docker.from_env())
        endpoint = context_endpoint(name)
        tls: Any = False
        if endpoint.ca or endpoint.cert:
            pair = (endpoint.cert, endpoint.key) if endpoint.cert and endpoint.key else None
            tls = TLSConfig(
                client_cert=pair, ca_cert=endpoint.ca, verify=not endpoint.skip_tls_verify
            )
        with _engine_ca_only(tls is not False):
            return _pin_verify(
                docker.DockerClient(
                    base_url=endpoint.host,
                    tls=tls,
                    use_ssh_client=endpoint.host.startswith("ssh://"),
                )
            )
    except DockerException as e:
        raise ComposeNetError(
            f"cannot reach the Docker engine ({describe_target()}): {_one_line(e)}"
        ) from None


# --------------------------------------------------------------------------- node engines


@dataclass(frozen=True)
class Target:
    """Where a node's engine is and how to talk to it, every file checked."""

    host: str
    tls: bool = False
    verify: bool = False
    ca: str | None = None
    cert: str | None = None
    key: str | None = None


def _checked(engine: Engine, node: str, key: str, path: str) -> str:
    """``path`` (named by the inventory's ``key``) as the path policy allows it: no special
    file, no symlink to outside its project root."""
    try:
        paths.check_read(path)
    except ComposeNetError as e:
        raise engine.error(node, key, str(e)) from None
    return path


def _file(engine: Engine, node: str, key: str, value: str) -> str:
    path = _checked(engine, node, key, engine.path(value))
    if not os.path.isfile(path):
        what = "not a regular file" if os.path.exists(path) else "no such file"
        raise engine.error(node, key, f"{path}: {what}")
    return path


def _cert_folder(
    engine: Engine, node: str, key: str, folder: str, verify: bool
) -> tuple[str | None, str | None, str | None]:
    """(ca, cert, key) of a DOCKER_CERT_PATH-style folder; ca.pem is needed to verify."""
    if not os.path.isdir(folder):
        raise engine.error(node, key, f"{folder}: no such folder")
    found = {
        n: _checked(engine, node, key, os.path.join(folder, f"{n}.pem"))
        for n in ("ca", "cert", "key")
    }
    have = {n: (p if os.path.isfile(p) else None) for n, p in found.items()}
    if verify and have["ca"] is None:
        raise engine.error(node, key, f"{found['ca']}: no such file (needed to verify the engine)")
    if bool(have["cert"]) != bool(have["key"]):
        missing = found["key"] if have["cert"] else found["cert"]
        raise engine.error(node, key, f"{missing}: no such file")
    return have["ca"], have["cert"], have["key"]


def _env_file(engine: Engine, node: str, value: str) -> str:
    """The env file an inventory names: inside the inventory's project root or the docker
    configuration folder, as the path policy allows it (its lines could be quoted in an
    error; an inventory in a repository must not make compose-net read other files)."""
    path = _checked(engine, node, "env-file", engine.path(value))
    if engine.origin is None or paths.inside(path, _config_dir()):
        return path
    root = paths.project_root(os.path.dirname(os.path.abspath(engine.origin)))
    if not paths.inside(path, root):
        shown, real_root = os.path.normpath(path), os.path.realpath(root)
        raise engine.error(
            node, "env-file",
            f"{shown} is outside the inventory's project {real_root} and the docker "
            f"configuration folder {_config_dir()}: not read; move it into one of them",
        )  # fmt: skip
    return path


def _from_env_file(engine: Engine, node: str, value: str) -> Target:
    from compose_net import envfile

    path = _env_file(engine, node, value)
    try:  # as Compose reads env files, bounded, regular files only; nothing from os.environ
        env = envfile.load(os.path.dirname(path), [path], environ={})
    except ComposeNetError as e:
        raise engine.error(node, "env-file", str(e)) from None
    host = env.get("DOCKER_HOST")
    if not host:
        if env.get("DOCKER_CONTEXT"):
            return _from_context(engine, node, "env-file", env["DOCKER_CONTEXT"])
        raise engine.error(node, "env-file", f"{path} sets no DOCKER_HOST")
    verify = bool(env.get("DOCKER_TLS_VERIFY"))
    cert_path = env.get("DOCKER_CERT_PATH")
    if not (verify or cert_path):
        return Target(host)
    folder = os.path.join(
        os.path.dirname(path), os.path.expanduser(cert_path or os.path.join("~", ".docker"))
    )
    ca, cert, key = _cert_folder(engine, node, "env-file", folder, verify)
    return Target(host, True, verify, ca, cert, key)


def _from_context(engine: Engine, node: str, key: str, name: str) -> Target:
    try:
        endpoint = context_endpoint(name)
    except ComposeNetError as e:
        raise engine.error(node, key, e.message) from None
    tls = bool(endpoint.ca or endpoint.cert)
    return Target(
        endpoint.host, tls, tls and not endpoint.skip_tls_verify and endpoint.ca is not None,
        endpoint.ca, endpoint.cert, endpoint.key,
    )


def engine_target(engine: Engine, node: str) -> Target:
    """Where node ``node``'s engine is; ComposeNetError naming the node and the key if unclear.

    Files are checked here, before anything connects: a missing certificate or an unknown
    context is an error in the inventory, not an engine that does not answer.
    """
    if engine.context is not None:
        return _from_context(engine, node, "context", engine.context)
    if engine.env_file is not None:
        return _from_env_file(engine, node, engine.env_file)
    host = str(engine.host)
    if engine.tls_ca or engine.tls_cert:
        ca = _file(engine, node, "tls.ca", engine.tls_ca) if engine.tls_ca else None
        cert = _file(engine, node, "tls.cert", engine.tls_cert) if engine.tls_cert else None
        key = _file(engine, node, "tls.key", engine.tls_key) if engine.tls_key else None
        verify = engine.tls_verify_ca if engine.tls_verify_ca is not None else ca is not None
        if verify and ca is None:
            raise engine.error(node, "tls", "verify needs ca, the engine's CA certificate")
        return Target(host, True, verify, ca, cert, key)
    if engine.tls or engine.tls_verify_ca is not None:
        key_name = "cert-path" if engine.cert_path is not None else "tls-verify"
        folder = engine.path(engine.cert_path or os.path.join("~", ".docker"))
        ca, cert, key = _cert_folder(engine, node, key_name, folder, engine.tls_verify)
        return Target(host, True, engine.tls_verify, ca, cert, key)
    return Target(host)


def engine_client(target: Target, timeout: float) -> Any:
    """A docker SDK client for ``target``; each request gives up after ``timeout`` seconds.

    Run it inside ``engine_ca_only(True)`` when several clients are made from threads.
    """
    import docker
    from docker.errors import DockerException
    from docker.tls import TLSConfig

    tls: Any = False
    if target.tls:
        pair = (target.cert, target.key) if target.cert and target.key else None
        tls = TLSConfig(
            client_cert=pair, ca_cert=target.ca if target.verify else None, verify=target.verify
        )
    try:
        return _pin_verify(
            docker.DockerClient(
                base_url=target.host,
                tls=tls,
                timeout=timeout,
                use_ssh_client=target.host.startswith("ssh://"),
            )
        )
    except DockerException as e:  # the caller names the engine
        raise ComposeNetError(_one_line(e)) from None


def engine_ca_only(tls: bool) -> contextlib.AbstractContextManager[None]:
    """While clients are made: no CA bundle variables (they would replace the engine's CA)."""
    return _engine_ca_only(tls)


def current_engine() -> Engine:
    """The engine ``connect`` talks to, as an inventory entry writes it."""
    host = os.environ.get("DOCKER_HOST")
    if host:
        verify = bool(os.environ.get("DOCKER_TLS_VERIFY"))
        cert_path = os.environ.get("DOCKER_CERT_PATH")
        if (verify or cert_path) and cert_path is None:
            cert_path = os.path.join(os.path.expanduser("~"), ".docker")
        return Engine(host=host, tls_verify=verify,
                      cert_path=os.path.abspath(cert_path) if cert_path else None)
    name = current_context()
    if name != "default":
        return Engine(context=name)
    return Engine(host="unix:///var/run/docker.sock")


def describe_target() -> str:
    """The engine ``connect`` talks to, for messages."""
    host = os.environ.get("DOCKER_HOST")
    if host:
        return host
    name = current_context()
    return "the default docker socket" if name == "default" else f"docker context {name}"


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def _host_of(addr: str) -> str:
    """``10.0.0.1:2377`` / ``[fd00::1]:2377`` / ``10.0.0.1`` -> the address."""
    if addr.startswith("["):
        return addr[1:].split("]", 1)[0]
    if addr.count(":") == 1:
        return addr.split(":", 1)[0]
    return addr


def advertised(data: Mapping[str, Any]) -> str | None:
    """The address a swarm node advertises (a manager's Status.Addr may read 0.0.0.0)."""
    status = data.get("Status") or {}
    addr = str(status.get("Addr") or "")
    if addr in ("", "0.0.0.0", "::"):
        manager = data.get("ManagerStatus") or {}
        addr = _host_of(str(manager.get("Addr") or ""))
    return addr or None


def _label_address(
    labels: Mapping[str, str],
    key: str,
    family: int,
) -> tuple[str | None, str | None]:
    """(address, problem) of an override label."""
    text = labels.get(key)
    if text is None:
        return None, None
    try:
        addr = ipaddress.ip_address(text.strip())
    except ValueError:
        return None, f"label {key}={text!r} is not an IPv{family} address"
    if addr.version != family or addr.is_unspecified or addr.is_loopback or addr.is_multicast:
        return None, f"label {key}={text!r} is not a usable IPv{family} address"
    return str(addr), None


def swarm_node(
    data: Mapping[str, Any],
    name: str | None = None,
    internal: Sequence[Network] = local.SERVICE_NETWORKS,
) -> Node:
    """One entry of ``GET /nodes`` as a node table entry."""
    spec = data.get("Spec") or {}
    hostname = str((data.get("Description") or {}).get("Hostname") or data.get("ID") or "")
    labels = {str(k): str(v) for k, v in (spec.get("Labels") or {}).items()}
    node_id = str(data.get("ID") or "") or None
    role = spec.get("Role")
    public: dict[int, str | None] = {4: None, 6: None}
    service: dict[int, str | None] = {4: None, 6: None}
    sources: list[str] = []
    problems: list[str] = []
    for family, key in ((4, LABEL_IPV4), (6, LABEL_IPV6)):
        value, problem = _label_address(labels, key, family)
        if problem:
            problems.append(problem)
        if value:
            service[family] = value
            sources.append(f"label {key}")
    addr_text = advertised(data)
    addr = None
    if addr_text:
        try:
            addr = ipaddress.ip_address(addr_text)
        except ValueError:
            problems.append(f"its advertised address {addr_text!r} is not an IP address")
    if addr is not None:
        klass = local.classify("", addr, internal)
        if klass == "public":
            public[addr.version] = str(addr)
            if not (service[4] or service[6]):
                label = LABEL_IPV4 if addr.version == 4 else LABEL_IPV6
                problems.append(
                    f"its advertised address {addr} is public; give its internal address with "
                    f"`docker node update --label-add {label}=ADDRESS {hostname}`"
                )
        elif klass == "service":
            if service[addr.version] is None:
                service[addr.version] = str(addr)
                sources.insert(0, "advertised address")
        else:
            note = local.CLASS_NOTES.get(klass, klass)
            problems.append(f"its advertised address {addr} is {note}")
    has_service = bool(service[4] or service[6])
    return Node(
        name=name or hostname,
        hostname=hostname,
        id=node_id,
        role=str(role) if role else None,
        labels=labels,
        public_ipv4=public[4],
        public_ipv6=public[6],
        service_ipv4=service[4],
        service_ipv6=service[6],
        source=", ".join(sources),
        problem=None
        if has_service and not problems
        else ("; ".join(problems) or "it advertises no address"),
    )


def swarm_inventory(
    nodes: Iterable[Mapping[str, Any]],
    origin: str = "the swarm",
    internal: Sequence[Network] = local.SERVICE_NETWORKS,
) -> Inventory:
    """``GET /nodes`` as a node table, ordered by hostname; a shared hostname gets its ID added."""
    items = sorted(
        nodes,
        key=lambda d: (
            str((d.get("Description") or {}).get("Hostname") or ""),
            str(d.get("ID") or ""),
        ),
    )
    counts: dict[str, int] = {}
    for data in items:
        host = str((data.get("Description") or {}).get("Hostname") or "")
        counts[host] = counts.get(host, 0) + 1
    out: list[Node] = []
    for data in items:
        host = str((data.get("Description") or {}).get("Hostname") or "")
        short_id = str(data.get("ID", ""))[:12]
        name = host if host and counts[host] == 1 else f"{host or 'node'}-{short_id}"
        out.append(swarm_node(data, name, internal))
    return Inventory(tuple(out), origin)


def probe_engine_host(client: Any, image: str) -> str:
    """Run ``ip -o addr show`` in a throwaway host-network container; its output."""
    output = client.containers.run(
        image, list(PROBE_COMMAND), network_mode="host", remove=True, stdout=True, stderr=True
    )
    return bytes(output).decode("utf-8", errors="replace")


def engine_inventory(
    client: Any,
    info: Mapping[str, Any],
    image: str,
    choice: local.Choice,
    origin: str,
    internal: Sequence[Network] = local.SERVICE_NETWORKS,
) -> Inventory:
    """The engine host as a one-node table, from its own interfaces."""
    name = str(info.get("Name") or "engine")
    items = local.parse_ip_oneline(probe_engine_host(client, image), internal)
    swarm = info.get("Swarm") or {}
    node_id = str(swarm.get("NodeID") or "") or None
    role = "worker" if swarm.get("LocalNodeState") == "active" else None
    node = local.as_node(
        name,
        items,
        choice,
        where=f"the engine host {name!r} ({origin})",
        source=f"host probe ({image})",
        node_id=node_id,
        role=role,
    )
    return Inventory((node,), origin)


def node_table(
    *,
    image: str = "busybox",
    choice_interface: str | None = None,
    choice_cidr: str | None = None,
    internal: Sequence[Network] = local.SERVICE_NETWORKS,
) -> Inventory:
    """The node table of the engine the docker CLI would use."""
    from docker.errors import DockerException

    choice = local.Choice.parse(choice_interface, choice_cidr)
    client = connect()
    where = describe_target()
    try:
        info = client.info()
        swarm = info.get("Swarm") or {}
        if swarm.get("ControlAvailable"):
            origin = f"the swarm managed through {where}"
            table = swarm_inventory(client.api.nodes(), origin, internal)
        else:
            origin = f"the Docker engine at {where}"
            table = engine_inventory(client, info, image, choice, origin, internal)
    except DockerException as e:
        raise ComposeNetError(f"Docker: {_one_line(e)}") from None
    finally:
        client.close()
    return with_engine(table, str(swarm.get("NodeID") or ""), current_engine())


def with_engine(table: Inventory, node_id: str, engine: Engine) -> Inventory:
    """The table with ``engine`` on the node it was read through (its swarm ID, or the only one)."""
    nodes = tuple(
        dataclasses.replace(n, engine=engine)
        if (len(table.nodes) == 1 and not n.id) or (node_id and n.id == node_id)
        else n
        for n in table.nodes
    )
    return Inventory(nodes, table.origin)
