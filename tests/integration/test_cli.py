"""SPEC §1 and §2: the command line (`--version`, `check`) and configuration errors as a user sees them."""

import glob
import os
import re
from pathlib import Path

import pytest

from harness import REPO, run_gateway

SHIPPED = REPO / "conf" / "gateway.yaml"


def _route_names(path: Path) -> list[str]:
    """Route names of a config file and its includes (PyYAML when present, else a line scan)."""
    try:
        import yaml

        doc = yaml.safe_load(path.read_text()) or {}
        names = [r["name"] for r in doc.get("routes") or []]
        include = doc.get("include")
        patterns = include if isinstance(include, list) else [include] if include else []
        for pattern in patterns:
            for inc in sorted(glob.glob(str(path.parent / pattern))):
                names += [r["name"] for r in (yaml.safe_load(Path(inc).read_text()) or {}).get("routes") or []]
        return names
    except ImportError:
        return re.findall(r"^\s*- name:\s*([\w.-]+)", path.read_text(), re.M)


def _output(result) -> str:
    return result.stdout + result.stderr


def test_version():
    result = run_gateway("--version")
    assert result.returncode == 0, _output(result)
    assert re.search(r"\d+\.\d+", _output(result)), _output(result)


def test_check_shipped_config_prints_one_line_per_route():
    assert SHIPPED.exists(), "conf/gateway.yaml is part of the product"
    result = run_gateway("check", "--config", str(SHIPPED))
    assert result.returncode == 0, _output(result)
    names = _route_names(SHIPPED)
    assert names, "the shipped config has routes"
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    for name in names:
        matching = [line for line in lines if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", line)]
        assert len(matching) == 1, f"route {name!r}: expected one summary line, got {matching!r} in\n{result.stdout}"


def test_check_relative_path_from_repo_root():
    result = run_gateway("check", "--config", "conf/gateway.yaml", cwd=str(REPO))
    assert result.returncode == 0, _output(result)


BAD_NESTED_KEY = """\
upstreams:
  app:
    replicas: [http://127.0.0.1:9001]
routes:
  - name: a
    match:
      path_prefx: /api/
    upstream: app
"""


def _check(tmp_path: Path, text: str, name: str = "bad.yaml", files: dict[str, str] | None = None):
    path = tmp_path / name
    path.write_text(text)
    for rel, content in (files or {}).items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(content)
    return path, run_gateway("check", "--config", str(path))


def _positions(output: str, filename: str) -> list[tuple[int, int, str]]:
    """(line, column, message) of every `FILE:LINE:COLUMN: message` line naming `filename`."""
    found = []
    for line in output.splitlines():
        m = re.search(rf"(\S*{re.escape(filename)}):(\d+):(\d+): (.+)$", line)
        if m:
            found.append((int(m.group(2)), int(m.group(3)), m.group(4)))
    return found


def test_unknown_key_has_position_and_suggestion(tmp_path):
    path, result = _check(tmp_path, BAD_NESTED_KEY)
    assert result.returncode == 1, _output(result)
    positions = _positions(_output(result), path.name)
    assert positions, f"no FILE:LINE:COLUMN line in:\n{_output(result)}"
    line, column, message = positions[0]
    assert (line, column) == (7, 7), positions
    assert "path_prefx" in message and "path_prefix" in message, message


def test_unknown_top_level_key_suggests_server(tmp_path):
    text = "sever:\n  listen: 127.0.0.1:8080\n" + BAD_NESTED_KEY.replace("path_prefx", "path_prefix")
    path, result = _check(tmp_path, text)
    assert result.returncode == 1, _output(result)
    positions = _positions(_output(result), path.name)
    assert positions and positions[0][:2] == (1, 1), _output(result)
    assert "server" in positions[0][2], positions


def test_every_problem_is_reported(tmp_path):
    text = BAD_NESTED_KEY + "  - name: b\n    match: { path: /b }\n    upstream: app\n    strip_prefx: true\n"
    path, result = _check(tmp_path, text)
    assert result.returncode == 1
    lines = sorted(p[0] for p in _positions(_output(result), path.name))
    assert 7 in lines and 12 in lines, _output(result)


def test_bad_duration_and_size_values(tmp_path):
    text = (
        "server:\n"
        "  max_body_bytes: 10 megs\n"
        "  timeouts:\n"
        "    client_header: 10 seconds\n"
        + BAD_NESTED_KEY.replace("path_prefx", "path_prefix")
    )
    path, result = _check(tmp_path, text)
    assert result.returncode == 1, _output(result)
    lines = {p[0] for p in _positions(_output(result), path.name)}
    assert {2, 4} <= lines, _output(result)


def test_unknown_upstream_reference(tmp_path):
    text = BAD_NESTED_KEY.replace("path_prefx", "path_prefix").replace("upstream: app", "upstream: nope")
    path, result = _check(tmp_path, text)
    assert result.returncode == 1
    positions = _positions(_output(result), path.name)
    assert any(line == 8 and "nope" in message for line, _, message in positions), _output(result)


def test_duplicate_route_in_include_names_both_files(tmp_path):
    text = BAD_NESTED_KEY.replace("path_prefx", "path_prefix") + "include: routes.d/*.yaml\n"
    include = "routes:\n  - name: a\n    match: { path: /dup }\n    upstream: app\n"
    _, result = _check(tmp_path, text, files={"routes.d/extra.yaml": include})
    assert result.returncode == 1, _output(result)
    out = _output(result)
    assert "bad.yaml" in out and "extra.yaml" in out, out


def test_include_matching_nothing_is_fine(tmp_path):
    text = BAD_NESTED_KEY.replace("path_prefx", "path_prefix") + "include: nothing.d/*.yaml\n"
    _, result = _check(tmp_path, text, name="ok.yaml")
    assert result.returncode == 0, _output(result)


def test_included_routes_are_listed(tmp_path):
    text = BAD_NESTED_KEY.replace("path_prefx", "path_prefix") + "include: routes.d/*.yaml\n"
    include = "routes:\n  - name: from-include\n    match: { path: /inc }\n    upstream: app\n"
    _, result = _check(tmp_path, text, name="ok.yaml", files={"routes.d/extra.yaml": include})
    assert result.returncode == 0, _output(result)
    assert "from-include" in result.stdout


def test_missing_file(tmp_path):
    result = run_gateway("check", "--config", str(tmp_path / "absent.yaml"))
    assert result.returncode == 1
    assert "absent.yaml" in _output(result)


def test_serve_refuses_bad_config(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("server:\n  listen: 127.0.0.1:0\n  admin_listen: 127.0.0.1:0\n" + BAD_NESTED_KEY)
    result = run_gateway("serve", "--config", str(path), timeout=20)
    assert result.returncode != 0
    assert any(line == 10 for line, _, _ in _positions(_output(result), "bad.yaml")), _output(result)
