"""A real editor: Neovim 0.7 (Debian's ``neovim``), headless, with the setup docs/editors.md
gives for it, opens a Compose file, receives the diagnostics, runs the fix-all code action,
writes the file; the bytes are what ``compose-net harden --stdout`` prints."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from harness import require

ROOT = Path(__file__).resolve().parents[1]
BIND = "10.0.0.5"

#: after the documented setup: open the file, wait for diagnostics, fix all, write, report
DRIVE = """
local out = {}
local function finish()
  local f = io.open(vim.env.REPORT, "w")
  f:write(vim.fn.json_encode(out))
  f:close()
  vim.cmd("qa!")
end
local function drive()
  vim.cmd("edit " .. vim.fn.fnameescape(vim.env.COMPOSE_FILE_UNDER_TEST))
  out.filetype = vim.bo.filetype
  out.attached = vim.wait(20000, function()
    return #vim.lsp.buf_get_clients(0) > 0
  end, 50)
  vim.wait(30000, function() return #vim.diagnostic.get(0) > 0 end, 50)
  out.diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(0)) do
    table.insert(out.diagnostics, { code = d.code, lnum = d.lnum, col = d.col,
      source = d.source, severity = d.severity })
  end
  local params = vim.lsp.util.make_range_params()
  params.range = { start = { line = 0, character = 0 },
                   ["end"] = { line = vim.api.nvim_buf_line_count(0), character = 0 } }
  params.context = { diagnostics = {}, only = { "source.fixAll.compose-net" } }
  local results = vim.lsp.buf_request_sync(0, "textDocument/codeAction", params, 30000)
  out.actions = {}
  for id, res in pairs(results or {}) do
    local client = vim.lsp.get_client_by_id(id)
    for _, action in ipairs(res.result or {}) do
      table.insert(out.actions, action.title)
      if action.edit then
        vim.lsp.util.apply_workspace_edit(action.edit, client.offset_encoding)
      end
    end
  end
  vim.cmd("write")
end
-- once Neovim has started (filetype detection is on then), as when a user opens the file
vim.api.nvim_create_autocmd("VimEnter", {
  nested = true,
  callback = function()
    local ok, err = pcall(drive)
    out.error = ok and vim.NIL or tostring(err)
    finish()
  end,
})
"""

CASES = [
    pytest.param(
        "compose.yaml",
        'services:\n  web:\n    image: nginx\n    ports:\n      - "8080:80"\n'
        "      - target: 443\n        published: 8443\n",
        [("CN001", 4, 8), ("CN001", 5, 8)],
        id="short-and-long",
    ),
    pytest.param(
        "docker-compose.prod.yml",
        "services:\r\n  db:\r\n    image: redis\r\n    ports: [6379:6379]  # cache\r\n",
        [("CN001", 3, 12), ("CN008", 3, 12)],
        id="crlf-flow-unquoted",
    ),
]


def _documented_setup() -> str:
    """The Neovim 0.7 block of docs/editors.md, as a user would paste it."""
    text = (ROOT / "docs" / "editors.md").read_text(encoding="utf-8")
    section = text.split("Neovim 0.7 (Debian", 1)[1]
    found = re.search(r"```lua\n(.*?)```", section, re.DOTALL)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize(("name", "text", "expected"), CASES)
def test_neovim_fix_all(tmp_path: Path, name: str, text: str,
                        expected: list[tuple[str, int, int]]) -> None:
    nvim = shutil.which("nvim")
    require(nvim is not None, "Neovim (Debian's neovim package) is not installed")
    assert nvim is not None
    version = subprocess.run([nvim, "--version"], capture_output=True, text=True, check=True)
    project = tmp_path / "project"
    project.mkdir()
    (project / ".git").mkdir()
    path = project / name
    path.write_bytes(text.encode("utf-8"))
    reference = tmp_path / "reference" / name
    reference.parent.mkdir()
    reference.write_bytes(text.encode("utf-8"))
    harden = subprocess.run(
        [sys.executable, "-m", "compose_net", "harden", "--bind", BIND, "--stdout",
         str(reference)],
        capture_output=True, env=_env(tmp_path), check=False, timeout=120,
    )
    assert harden.returncode == 0, harden.stderr
    config = tmp_path / "init.lua"
    config.write_text(_documented_setup() + DRIVE, encoding="utf-8")
    report = tmp_path / "report.json"
    env = {**_env(tmp_path), "REPORT": str(report), "COMPOSE_FILE_UNDER_TEST": str(path)}
    proc = subprocess.run(
        [nvim, "--headless", "--clean", "-u", str(config)],
        cwd=project, env=env, capture_output=True, timeout=180, check=False,
        stdin=subprocess.DEVNULL,
    )
    assert report.is_file(), (version.stdout.splitlines()[0], proc.stdout, proc.stderr)
    result = json.loads(report.read_text(encoding="utf-8"))
    assert result["error"] is None, result
    assert result["filetype"] == "yaml" and result["attached"] is True
    got = sorted((d["code"], d["lnum"], d["col"]) for d in result["diagnostics"])
    assert got == sorted(expected)
    assert {d["source"] for d in result["diagnostics"]} == {"compose-net"}
    assert result["actions"] == ["compose-net: fix all (as compose-net harden)"]
    assert path.read_bytes() == harden.stdout


def _env(tmp_path: Path) -> dict[str, str]:
    """A bin folder whose ``compose-net`` runs this checkout, first on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / "compose-net"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m compose_net "$@"\n',
                      encoding="utf-8")
    script.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_NET_")}
    env["PATH"] = os.pathsep.join([str(bin_dir), os.environ.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg-config")
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg-data")
    env["XDG_STATE_HOME"] = str(tmp_path / "xdg-state")
    env.pop("COMPOSE_FILE", None)
    return env
