"""Network-namespace labs: node namespaces wired to an "internet" and a "servicenet" peer.

Topology of a Lab (every name is prefixed with the lab's prefix, e.g. ``cn4242-1-``)::

    internet ns: bridge br0 203.0.113.1/24        servicenet ns: bridge br0 10.176.0.1/16
          | <node>  (veth)                               | <node>  (veth)
    node ns: "public" 203.0.113.x/24              "internal" 10.176.x.y/16

No namespace has a default route or a link to the root namespace, so traffic sent from inside a
lab cannot leave it. A node can run its own dockerd (own data-root, exec-root, pidfile, socket,
containerd, cgroup parent and hostname).
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from .docker import Engine
from .process import DEFAULT_TIMEOUT, CommandError, kill, pid_alive, run, tail, wait_until

NETNS_DIR = Path("/run/netns")
PUBLIC_IF = "public"
INTERNAL_IF = "internal"
PEER_BRIDGE = "br0"

_PREFIX_RE = re.compile(r"^cn(\d+)-")
_NODE_NAME_RE = re.compile(r"^[a-z][a-z0-9]{0,9}$")
_RESERVED_NAMES = {"internet", "servicenet", "lo", PEER_BRIDGE}
_lab_counter = itertools.count(1)
_cleaned_leftovers = False
_cleanup_lock = threading.Lock()

# Run inside `unshare --mount --uts` + `nsenter --net`: a private /sys for the node's network
# namespace (so dockerd sees its own interfaces) with the host cgroup mounts carried over, the
# system containerd socket hidden (each node gets its own managed containerd), then dockerd.
_DOCKERD_WRAPPER = r"""
set -eu
dir=$1
name=$2
shift 2
hostname "$name"
mkdir -p "$dir/cgroup-aside"
mount --rbind /sys/fs/cgroup "$dir/cgroup-aside"
umount -l /sys
mount -t sysfs sysfs /sys
mount --move "$dir/cgroup-aside" /sys/fs/cgroup
if [ -d /run/containerd ]; then mount -t tmpfs tmpfs /run/containerd; fi
export DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1
exec "$@"
"""


class LabError(RuntimeError):
    """Setting up or tearing down a lab failed."""


def ip(*args: str, timeout: float = 30.0) -> str:
    """Run `ip ARGS` in the root namespace and return its output."""
    return run(["ip", *args], timeout=timeout).stdout


@functools.cache
def netns_unavailable_reason() -> str | None:
    """None when namespaces and per-namespace dockerds can be used here, else why not."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    missing = [prog for prog in ("ip", "nsenter", "unshare", "dockerd", "docker", "iptables")
               if shutil.which(prog) is None]
    if missing:
        return f"missing programs: {', '.join(missing)}"
    name = f"cn{os.getpid()}-check"
    try:
        ip("netns", "add", name)
        ip("netns", "del", name)
    except CommandError as exc:
        return f"cannot create a network namespace: {exc}"
    return None


class Namespace:
    """A named network namespace under /run/netns, owned by a Lab."""

    def __init__(self, lab: Lab, name: str):
        self.lab = lab
        self.name = name
        self.netns = lab.prefix + name

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.netns}>"

    @property
    def path(self) -> Path:
        return NETNS_DIR / self.netns

    def inode(self) -> int:
        return self.path.stat().st_ino

    def nsenter(self, *argv: str) -> list[str]:
        """argv prefixed so that it runs in this namespace (network only)."""
        return ["nsenter", f"--net={self.path}", "--", *argv]

    def run(
        self,
        *argv: str,
        timeout: float = DEFAULT_TIMEOUT,
        check: bool = True,
        input: bytes | str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run a plain command in this namespace and wait for it."""
        return run(self.nsenter(*argv), timeout=timeout, check=check, input=input, env=env)

    def spawn(
        self, *argv: str, log: str | os.PathLike[str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Start a long-running command in this namespace; the lab kills it at teardown."""
        with open(log if log is not None else os.devnull, "ab") as out:
            proc = subprocess.Popen(
                self.nsenter(*argv), stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )
        self.lab.spawned.append(proc)
        return proc

    def ip(self, *args: str) -> str:
        """Run `ip -n NETNS ARGS` and return its output."""
        return run(["ip", "-n", self.netns, *args], timeout=30.0).stdout


class Peer(Namespace):
    """A bridge namespace standing for a network: 'internet' or 'servicenet'."""

    def __init__(self, lab: Lab, name: str, network: ipaddress.IPv4Network):
        super().__init__(lab, name)
        self.network = network
        self.address = str(next(network.hosts()))


class Node(Namespace):
    """A host namespace with a public and an internal interface, optionally running dockerd."""

    def __init__(self, lab: Lab, name: str, public_ip: str, internal_ip: str):
        super().__init__(lab, name)
        self.public_ip = public_ip
        self.internal_ip = internal_ip
        self.dir = lab.dir / name
        self.cgroup = self.netns
        self.engine = Engine(f"unix://{self.dir / 'docker.sock'}")
        self.daemon: subprocess.Popen[bytes] | None = None

    @property
    def docker_host(self) -> str:
        return self.engine.host

    @property
    def log_path(self) -> Path:
        return self.dir / "dockerd.log"

    def docker(self, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        """Run `docker ARGS` against this node's dockerd."""
        return self.engine.docker(*args, **kwargs)

    def launch_dockerd(
        self, daemon_config: Mapping[str, Any] | None = None, extra_args: Sequence[str] = ()
    ) -> None:
        """Start this node's dockerd in the background (see wait_dockerd).

        extra_args go on dockerd's command line (another -H with its TLS options, say).
        """
        if self.daemon is not None and self.daemon.poll() is None:
            raise LabError(f"dockerd of {self.name} is already running")
        self.dir.mkdir(parents=True, exist_ok=True)
        config_file = self.dir / "daemon.json"
        config_file.write_text(json.dumps(dict(daemon_config or {}), indent=2) + "\n")
        argv = [
            "unshare", "--mount", "--uts", "--propagation", "slave", "--",
            *self.nsenter(
                "sh", "-c", _DOCKERD_WRAPPER, "dockerd-wrapper", str(self.dir), self.name,
                "dockerd",
                "--config-file", str(config_file),
                "--data-root", str(self.dir / "data"),
                "--exec-root", str(self.dir / "exec"),
                "--pidfile", str(self.dir / "dockerd.pid"),
                "-H", self.engine.host,
                "--storage-driver", "vfs",
                "--cgroup-parent", f"/{self.cgroup}",
                *extra_args,
            ),
        ]
        with open(self.log_path, "ab") as log:
            self.daemon = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_dockerd(self, timeout: float = 60.0) -> None:
        """Wait until this node's dockerd answers; LabError with its log tail otherwise."""
        daemon = self.daemon
        if daemon is None:
            raise LabError(f"dockerd of {self.name} was never started")

        def ready() -> bool:
            if daemon.poll() is not None:
                raise LabError(
                    f"dockerd of {self.name} exited with {daemon.returncode}:\n"
                    + tail(self.log_path)
                )
            return self.engine.answers(timeout=5.0)

        try:
            wait_until(ready, timeout=timeout, interval=0.05, what=f"dockerd of {self.name}")
        except TimeoutError as exc:
            raise LabError(f"{exc}; log tail:\n{tail(self.log_path)}") from exc

    def start_dockerd(
        self,
        daemon_config: Mapping[str, Any] | None = None,
        timeout: float = 60.0,
        extra_args: Sequence[str] = (),
    ) -> None:
        """Start this node's dockerd and wait until it answers."""
        self.launch_dockerd(daemon_config, extra_args)
        self.wait_dockerd(timeout)

    def stop_dockerd(self, timeout: float = 30.0) -> None:
        """Stop dockerd gracefully (SIGTERM), killing container processes so it need not wait.

        The data-root stays, so start_dockerd brings the same engine (and swarm state) back.
        """
        daemon = self.daemon
        if daemon is None:
            return
        if daemon.poll() is None:
            daemon.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while daemon.poll() is None and time.monotonic() < deadline:
                for pid in cgroup_pids(self.cgroup):
                    kill(pid)
                time.sleep(0.1)
            if daemon.poll() is None:
                daemon.kill()
            daemon.wait(timeout=10)
        self.daemon = None
        _kill_until_gone(lambda: _pids_mentioning(f"{self.dir}/") | cgroup_pids(self.cgroup))

    def pids(self) -> set[int]:
        """Processes of this node: in its network namespace or its container cgroups."""
        pids = cgroup_pids(self.cgroup)
        if self.path.exists():
            pids |= _pids_in_netns({self.inode()})
        return pids


class Lab:
    """A set of namespaces for one test; close() removes all of it (use as a context manager)."""

    def __init__(
        self,
        public_net: str = "203.0.113.0/24",
        internal_net: str = "10.176.0.0/16",
        base_dir: str | os.PathLike[str] | None = None,
    ):
        clean_leftovers()
        self.prefix = f"cn{os.getpid()}-{next(_lab_counter)}-"
        self.public_net = ipaddress.IPv4Network(public_net)
        self.internal_net = ipaddress.IPv4Network(internal_net)
        self.dir = Path(tempfile.mkdtemp(prefix=self.prefix, dir=base_dir))
        self.nodes: dict[str, Node] = {}
        self.namespaces: list[Namespace] = []
        self.spawned: list[subprocess.Popen[bytes]] = []
        self.closed = False
        try:
            self.internet = self._add_peer("internet", self.public_net)
            self.servicenet = self._add_peer("servicenet", self.internal_net)
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Lab {self.prefix} nodes={sorted(self.nodes)}>"

    def _new_namespace(self, ns: Namespace) -> None:
        ip("netns", "add", ns.netns)
        self.namespaces.append(ns)
        ns.ip("link", "set", "lo", "up")

    def _add_peer(self, name: str, network: ipaddress.IPv4Network) -> Peer:
        peer = Peer(self, name, network)
        self._new_namespace(peer)
        peer.ip("link", "add", PEER_BRIDGE, "type", "bridge")
        peer.ip("addr", "add", f"{peer.address}/{network.prefixlen}", "dev", PEER_BRIDGE)
        peer.ip("link", "set", PEER_BRIDGE, "up")
        return peer

    def add_node(
        self, name: str, public_ip: str = "203.0.113.10", internal_ip: str = "10.176.226.219"
    ) -> Node:
        """Create a node namespace wired to both peers (addresses must lie in the lab networks)."""
        if not _NODE_NAME_RE.match(name) or name in _RESERVED_NAMES or name in self.nodes:
            raise ValueError(f"bad or duplicate node name {name!r}")
        for address, network in ((public_ip, self.public_net), (internal_ip, self.internal_net)):
            if ipaddress.IPv4Address(address) not in network:
                raise ValueError(f"{address} is not in {network}")
        node = Node(self, name, public_ip, internal_ip)
        node.dir.mkdir()
        self._new_namespace(node)
        self.nodes[name] = node
        for ifname, address, peer in (
            (PUBLIC_IF, public_ip, self.internet),
            (INTERNAL_IF, internal_ip, self.servicenet),
        ):
            node.ip("link", "add", ifname, "type", "veth", "peer", "name", name,
                    "netns", peer.netns)
            node.ip("addr", "add", f"{address}/{peer.network.prefixlen}", "dev", ifname)
            node.ip("link", "set", ifname, "up")
            peer.ip("link", "set", name, "master", PEER_BRIDGE, "up")
        return node

    def start_dockerds(
        self,
        nodes: Iterable[Node],
        daemon_config: Mapping[str, Any] | None = None,
        timeout: float = 60.0,
    ) -> None:
        """Start several nodes' dockerds side by side and wait for all of them."""
        started = list(nodes)
        for node in started:
            node.launch_dockerd(daemon_config)
        for node in started:
            node.wait_dockerd(timeout)

    def pids(self) -> set[int]:
        """Every process that belongs to this lab."""
        inodes = {ns.inode() for ns in self.namespaces if ns.path.exists()}
        pids = _pids_in_netns(inodes) | _pids_mentioning(str(self.dir) + "/")
        for node in self.nodes.values():
            pids |= cgroup_pids(node.cgroup)
        return pids

    def close(self) -> None:
        """Kill every lab process, delete the namespaces, cgroups and files. Idempotent.

        Teardown is not graceful: the daemons' state is thrown away, so everything is SIGKILLed.
        Raises LabError listing what could not be removed (after trying all of it).
        """
        if self.closed:
            return
        self.closed = True
        errors: list[str] = []
        with _collect(errors, "kill processes"):
            _kill_until_gone(self.pids)
        for proc in self.spawned:
            proc.kill()
        children = [*self.spawned, *(n.daemon for n in self.nodes.values() if n.daemon)]
        for proc in children:
            with _collect(errors, f"reap {proc.pid}"):
                proc.wait(timeout=10)
        for node in self.nodes.values():
            node.daemon = None
        errors += _remove_prefix_state(self.prefix, [ns.netns for ns in self.namespaces],
                                       [self.dir])
        if errors:
            raise LabError(f"teardown of lab {self.prefix} incomplete: " + "; ".join(errors))


@contextlib.contextmanager
def _collect(errors: list[str], what: str) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        errors.append(f"{what}: {exc}")


def _proc_pids() -> Iterator[int]:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            yield int(entry)


def _pids_in_netns(inodes: set[int]) -> set[int]:
    if not inodes:
        return set()
    me = os.getpid()
    found = set()
    for pid in _proc_pids():
        if pid == me:
            continue
        try:
            if os.stat(f"/proc/{pid}/ns/net").st_ino in inodes:
                found.add(pid)
        except OSError:
            continue
    return found


def _pids_mentioning(text: str) -> set[int]:
    needle = text.encode()
    me = os.getpid()
    found = set()
    for pid in _proc_pids():
        if pid == me:
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                if needle in fh.read():
                    found.add(pid)
        except OSError:
            continue
    return found


def cgroup_mounts() -> list[Path]:
    """Mount points of the cgroup (v1 and v2) hierarchies."""
    mounts = []
    with open("/proc/self/mounts", encoding="utf-8") as fh:
        for line in fh:
            fields = line.split()
            if len(fields) >= 3 and fields[2] in ("cgroup", "cgroup2"):
                mounts.append(Path(fields[1]))
    return mounts


def cgroup_dirs(name: str) -> list[Path]:
    """The top-level directories called name in every cgroup hierarchy."""
    return [m / name for m in cgroup_mounts() if (m / name).is_dir()]


def cgroup_pids(name: str) -> set[int]:
    """Processes in the top-level cgroup name or below it, in any hierarchy."""
    pids: set[int] = set()
    for top in cgroup_dirs(name):
        for dirpath, _dirs, _files in os.walk(top):
            with contextlib.suppress(OSError):
                pids.update(int(p) for p in (Path(dirpath) / "cgroup.procs").read_text().split())
    return pids


def _kill_until_gone(find: Callable[[], set[int]], timeout: float = 15.0) -> None:
    """SIGKILL what find() returns until it returns nothing; LabError if processes remain."""
    deadline = time.monotonic() + timeout
    while True:
        pids = {pid for pid in find() if pid_alive(pid)}
        if not pids:
            return
        if time.monotonic() >= deadline:
            raise LabError(f"processes still alive after SIGKILL: {sorted(pids)}")
        for pid in pids:
            kill(pid)
        time.sleep(0.05)


def _rmdir_tree(top: Path, timeout: float = 10.0) -> None:
    """rmdir a cgroup directory tree, deepest first, retrying while it is busy."""
    deadline = time.monotonic() + timeout
    while top.exists():
        for dirpath, _dirs, _files in os.walk(top, topdown=False):
            with contextlib.suppress(OSError):
                os.rmdir(dirpath)
        if not top.exists():
            return
        if time.monotonic() >= deadline:
            raise LabError(f"cannot remove cgroup {top}")
        time.sleep(0.1)


def _remove_prefix_state(
    prefix: str, netns_names: Sequence[str], dirs: Sequence[Path]
) -> list[str]:
    """Delete namespaces, cgroup dirs and directories; return what failed."""
    errors: list[str] = []
    for name in netns_names:
        if (NETNS_DIR / name).exists():
            with _collect(errors, f"netns {name}"):
                ip("netns", "del", name)
    for mount in cgroup_mounts():
        with contextlib.suppress(OSError):
            entries = [e for e in os.listdir(mount) if e.startswith(prefix)]
            for entry in entries:
                with _collect(errors, f"cgroup {mount / entry}"):
                    _rmdir_tree(mount / entry)
    for directory in dirs:
        with _collect(errors, f"directory {directory}"):
            shutil.rmtree(directory)
            if directory.exists():
                raise LabError("still there")
    return errors


def _stale_prefixes(names: Iterable[str], own_pid_is_stale: bool) -> set[str]:
    """Prefixes cn<pid>- among names whose pid is gone (or is this process, at first use)."""
    stale = set()
    for name in names:
        match = _PREFIX_RE.match(name)
        if match is None:
            continue
        pid = int(match.group(1))
        if (pid == os.getpid() and own_pid_is_stale) or (pid != os.getpid() and not pid_alive(pid)):
            stale.add(match.group(0))
    return stale


def clean_leftovers(force: bool = False) -> list[str]:
    """Remove namespaces, processes, cgroups and temp dirs left by dead test runs.

    A run's state is named cn<pid>-...; it is stale when that pid no longer exists. On the first
    call in a process, state named after our own pid is stale too (an earlier process had it).
    Returns the prefixes that were cleaned. Runs once per process unless force is set.
    """
    global _cleaned_leftovers
    with _cleanup_lock:
        if _cleaned_leftovers and not force:
            return []
        own_is_stale = not _cleaned_leftovers
        _cleaned_leftovers = True
        netns_names = sorted(os.listdir(NETNS_DIR)) if NETNS_DIR.is_dir() else []
        tmp = Path(tempfile.gettempdir())
        tmp_dirs = [p for p in tmp.iterdir() if p.is_dir() and _PREFIX_RE.match(p.name)]
        cgroups = [e for m in cgroup_mounts() for e in _listdir(m) if _PREFIX_RE.match(e)]
        stale = _stale_prefixes([*netns_names, *(p.name for p in tmp_dirs), *cgroups],
                                own_is_stale)
        for prefix in sorted(stale):
            names = [n for n in netns_names if n.startswith(prefix)]
            dirs = [p for p in tmp_dirs if p.name.startswith(prefix)]
            inodes = set()
            for name in names:
                with contextlib.suppress(OSError):
                    inodes.add((NETNS_DIR / name).stat().st_ino)
            tmp_prefix = str(tmp / prefix)

            def find(inodes: set[int] = inodes, tmp_prefix: str = tmp_prefix,
                     prefix: str = prefix) -> set[int]:
                pids = _pids_in_netns(inodes) | _pids_mentioning(tmp_prefix)
                for mount in cgroup_mounts():
                    for entry in _listdir(mount):
                        if entry.startswith(prefix):
                            pids |= cgroup_pids(entry)
                return pids

            with contextlib.suppress(LabError):
                _kill_until_gone(find)
            _remove_prefix_state(prefix, names, dirs)
        return sorted(stale)


def _listdir(path: Path) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def leftovers(prefix: str) -> list[str]:
    """Anything still named with prefix: namespaces, cgroup dirs, temp dirs, processes."""
    found = [f"netns {n}" for n in _listdir(NETNS_DIR) if n.startswith(prefix)]
    for mount in cgroup_mounts():
        found += [f"cgroup {mount / e}" for e in _listdir(mount) if e.startswith(prefix)]
    tmp = Path(tempfile.gettempdir())
    found += [f"dir {tmp / e}" for e in _listdir(tmp) if e.startswith(prefix)]
    found += [f"pid {p}" for p in sorted(_pids_mentioning(str(tmp / prefix))) if pid_alive(p)]
    return found
