"""Under CI=true a skipped test fails (ci_strict.py); on a user's checkout it stays a skip with its
reason. Runs pytest on a small probe file, with and without CI."""

import os
import subprocess
import sys

from conftest import SUPPORT

PROBE = '''
import pytest

@pytest.mark.skipif(True, reason="probe-tool not installed")
def test_marked():
    pass

def test_called():
    pytest.skip("probe-data not found")

def test_runs():
    assert True
'''
PROBE_MODULE = '''
import pytest
pytest.importorskip("tinynet_probe_module_that_does_not_exist")

def test_never_collected():
    pass
'''


def _pytest(tmp_path, ci, source):
    (tmp_path / "test_probe.py").write_text(source)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci:
        env["CI"] = "true"
    env["PYTHONPATH"] = str(SUPPORT)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "ci_strict", "-p", "no:cacheprovider",
                           "--rootdir", str(tmp_path), str(tmp_path / "test_probe.py")],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)


def test_skips_stay_skips_with_their_reason_outside_ci(tmp_path):
    result = _pytest(tmp_path, False, PROBE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 2 skipped" in result.stdout
    assert "probe-tool not installed" in result.stdout and "probe-data not found" in result.stdout


def test_skips_fail_under_ci_with_their_reason(tmp_path):
    result = _pytest(tmp_path, True, PROBE)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "skipped" not in result.stdout.splitlines()[-1]
    assert "CI=true, so a skip is a failure: Skipped: probe-tool not installed" in result.stdout
    assert "CI=true, so a skip is a failure: Skipped: probe-data not found" in result.stdout
    assert "1 passed" in result.stdout


def test_a_skipped_module_fails_under_ci(tmp_path):
    assert _pytest(tmp_path, False, PROBE_MODULE).returncode == 5  # nothing collected: only a skip
    result = _pytest(tmp_path, True, PROBE_MODULE)
    assert result.returncode != 0 and result.returncode != 5, result.stdout + result.stderr
    assert "CI=true, so a skip is a failure" in result.stdout
    assert "tinynet_probe_module_that_does_not_exist" in result.stdout
