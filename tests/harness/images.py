"""A local busybox image, built from the busybox-static binary (no registry needed)."""

from __future__ import annotations

import io
import shutil
import struct
import tarfile
from pathlib import Path

from .docker import Engine
from .process import run

BUSYBOX_IMAGE = "compose-net-busybox:1"

_PT_INTERP = 3


def busybox_binary() -> str:
    """Path of a statically linked busybox; raises FileNotFoundError if there is none."""
    for candidate in (shutil.which("busybox"), "/bin/busybox", "/usr/bin/busybox"):
        if candidate and Path(candidate).is_file() and is_static_elf(candidate):
            return candidate
    raise FileNotFoundError("no static busybox found (apt-get install busybox-static)")


def is_static_elf(path: str) -> bool:
    """True for a 64-bit little-endian ELF without a program interpreter (PT_INTERP)."""
    with open(path, "rb") as fh:
        header = fh.read(64)
        if len(header) < 64 or header[:4] != b"\x7fELF" or header[4] != 2 or header[5] != 1:
            return False
        phoff = struct.unpack_from("<Q", header, 0x20)[0]
        phentsize, phnum = struct.unpack_from("<HH", header, 0x36)
        fh.seek(phoff)
        table = fh.read(phentsize * phnum)
    for index in range(phnum):
        (p_type,) = struct.unpack_from("<I", table, index * phentsize)
        if p_type == _PT_INTERP:
            return False
    return True


def busybox_rootfs_tar(busybox: str) -> bytes:
    """A root filesystem tarball: busybox plus a symlink for each applet, a few /etc files."""
    applets = run([busybox, "--list-full"], timeout=30).stdout.split()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:

        def add_dir(name: str, mode: int = 0o755) -> None:
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE
            info.mode = mode
            tar.addfile(info)

        def add_file(name: str, data: bytes, mode: int = 0o644) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = mode
            tar.addfile(info, io.BytesIO(data))

        for directory in ("bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "root",
                          "proc", "sys", "dev", "run", "var"):
            add_dir(directory)
        add_dir("tmp", 0o1777)
        add_file("bin/busybox", Path(busybox).read_bytes(), 0o755)
        add_file(
            "etc/passwd",
            b"root:x:0:0:root:/root:/bin/sh\n"
            b"nobody:x:65534:65534::/:/bin/false\n",
        )
        add_file("etc/group", b"root:x:0:\nnogroup:x:65534:\n")
        for applet in applets:
            path = applet.lstrip("/")
            if not path or path == "bin/busybox":
                continue
            link = tarfile.TarInfo(path)
            link.type = tarfile.SYMTYPE
            link.linkname = "/bin/busybox"
            link.mode = 0o777
            tar.addfile(link)
    return buf.getvalue()


def busybox_image(docker_host: str, name: str = BUSYBOX_IMAGE) -> str:
    """Import the busybox image into the engine at docker_host unless it has it; return its name."""
    engine = Engine(docker_host)
    if not engine.image_exists(name):
        tarball = busybox_rootfs_tar(busybox_binary())
        engine.docker(
            "import",
            "--change", 'CMD ["/bin/sh"]',
            "--change", "ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin",
            "-", name,
            input=tarball,
        )
    return name
