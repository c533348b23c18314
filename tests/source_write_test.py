"""source.write_all: every file or none, also when a rename fails after others succeeded."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from compose_net import source
from compose_net.errors import ComposeNetError


@pytest.mark.parametrize(
    ("existing", "broken"),
    (
        pytest.param(("a.yaml", "b.yaml", "c.yaml"), 1, id="second-of-three-fails"),
        pytest.param(("a.yaml", "b.yaml", "c.yaml"), 2, id="last-fails"),
        pytest.param(("b.yaml",), 1, id="new-file-removed-again"),
    ),
)
def test_failed_rename_puts_every_original_back(
    tmp_path: Path, existing: tuple[str, ...], broken: int
) -> None:
    names = ("a.yaml", "b.yaml", "c.yaml")
    before: dict[str, tuple[bytes, int]] = {}
    for name in existing:
        (tmp_path / name).write_bytes(f"old {name}\n".encode())
        before[name] = ((tmp_path / name).read_bytes(), (tmp_path / name).stat().st_ino)
    files = [(str(tmp_path / n), f"new {n}\n".encode()) for n in names]
    prepared = source.prepare_all(files)
    # the rename of one file fails: its temporary file is gone
    tmp = prepared.items[broken].tmp
    assert tmp is not None
    os.unlink(tmp)
    with pytest.raises(ComposeNetError) as info:
        prepared.commit()
    assert str(info.value) == (
        f"{tmp_path / names[broken]}: cannot replace the file: No such file or directory; "
        "no file was changed"
    )
    for name in names:
        path = tmp_path / name
        if name in before:
            assert (path.read_bytes(), path.stat().st_ino) == before[name]
        else:
            assert not path.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(existing)


@pytest.mark.parametrize(
    "files",
    (
        pytest.param(("a.yaml",), id="one"),
        pytest.param(("a.yaml", "sub/b.yaml"), id="two-folders"),
    ),
)
def test_write_all_writes_every_file_and_leaves_no_temporary(
    tmp_path: Path, files: tuple[str, ...]
) -> None:
    (tmp_path / "sub").mkdir()
    for name in files:
        (tmp_path / name).write_bytes(b"old\n")
    source.write_all([(str(tmp_path / n), n.encode()) for n in files])
    assert [(tmp_path / n).read_bytes() for n in files] == [n.encode() for n in files]
    assert [p.name for p in tmp_path.rglob(".compose-net-*")] == []


def test_the_same_file_twice_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_bytes(b"old\n")
    (tmp_path / "link.yaml").symlink_to("a.yaml")
    with pytest.raises(ComposeNetError) as info:
        source.write_all([(str(tmp_path / "a.yaml"), b"1"), (str(tmp_path / "link.yaml"), b"2")])
    assert str(info.value) == f"{tmp_path / 'link.yaml'}: the same file twice; nothing was written"
    assert (tmp_path / "a.yaml").read_bytes() == b"old\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".compose-net-")] == []


@pytest.mark.parametrize(
    ("now", "was", "refused"),
    (
        pytest.param(b"old\n", b"old\n", False, id="as-read"),
        pytest.param(b"edited\n", b"old\n", True, id="edited-since"),
        pytest.param(None, b"old\n", True, id="removed-since"),
        pytest.param(b"edited\n", None, False, id="not-read"),
    ),
)
def test_a_file_must_hold_what_was_read(
    tmp_path: Path, now: bytes | None, was: bytes | None, refused: bool
) -> None:
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_bytes(b"a\n")
    if now is not None:
        b.write_bytes(now)
    writes = [source.Write(str(a), b"new a\n", b"a\n"), source.Write(str(b), b"new b\n", was)]
    if refused:
        with pytest.raises(ComposeNetError) as info:
            source.write_all(writes)
        assert str(info.value) == (
            f"{b}: the file changed since compose-net read it (another program wrote it?); "
            "nothing was written: run compose-net again"
        )
        assert a.read_bytes() == b"a\n"
        assert (b.read_bytes() if b.exists() else None) == now
    else:
        source.write_all(writes)
        assert (a.read_bytes(), b.read_bytes()) == (b"new a\n", b"new b\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        n for n in ("a.yaml", "b.yaml") if n == "a.yaml" or now is not None or not refused
    )
