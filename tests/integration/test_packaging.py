"""Issue 18: what installs the gateway — the systemd unit in conf/examples/."""

import shutil
import subprocess

import pytest

from harness import GATEWAY_BIN, REPO

UNIT = REPO / "conf" / "examples" / "gateway.service"


def test_systemd_unit_verifies(tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (Debian's systemd package)")
    # The unit names /usr/local/bin/gateway (the README's install step); verify it against the binary just built.
    unit = tmp_path / "gateway.service"
    unit.write_text(UNIT.read_text().replace("/usr/local/bin/gateway", str(GATEWAY_BIN)))
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", str(unit)], capture_output=True, text=True,
                            timeout=60, stdin=subprocess.DEVNULL)
    if result.returncode != 0 and "Failed to" in result.stderr and "bus" in result.stderr.lower():
        pytest.skip(f"systemd-analyze cannot run here: {result.stderr.strip()[:200]}")
    assert result.returncode == 0, result.stderr
    problems = [line for line in result.stderr.splitlines() if str(unit) in line]
    assert not problems, problems  # e.g. "Unknown key 'ProtectClok' in section [Service], ignoring."
    text = UNIT.read_text()
    for option in ("NoNewPrivileges=true", "ProtectSystem=strict", "ExecReload=/bin/kill -HUP $MAINPID"):
        assert option in text
