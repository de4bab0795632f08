"""scripts/setup (the README's first command) as root without sudo, and as another user through
sudo: run against stub dpkg-query, apt-get, id and sudo that record what they were asked to do."""

import os
import shutil
import subprocess

from conftest import ROOT

SETUP = ROOT / "scripts" / "setup"
STUBS = {
    # Every package is installed except those named in $STUB_MISSING.
    "dpkg-query": 'for p in $STUB_MISSING; do [ "$p" = "${@: -1}" ] && exit 1; done; echo "install ok installed"',
    "apt-get": 'echo "apt-get DEBIAN_FRONTEND=${DEBIAN_FRONTEND:-} $*" >> "$STUB_LOG"',
    "id": 'echo "$STUB_UID"',
    "sudo": 'echo "sudo" >> "$STUB_LOG"; exec env -u DEBIAN_FRONTEND "$@"',  # sudo resets the environment
}


def _setup(tmp_path, uid, missing, with_sudo=True):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in ("bash", "grep", "sed", "env"):  # the only real tools on PATH
        os.symlink(shutil.which(tool), bin_dir / tool)
    for name, body in STUBS.items():
        if name == "sudo" and not with_sudo:
            continue
        (bin_dir / name).write_text("#!/bin/bash\n" + body + "\n")
        (bin_dir / name).chmod(0o755)
    log = tmp_path / "log"
    log.write_text("")
    env = {"PATH": str(bin_dir), "STUB_LOG": str(log), "STUB_UID": str(uid), "STUB_MISSING": " ".join(missing)}
    result = subprocess.run([str(SETUP)], capture_output=True, text=True, env=env, timeout=60)
    return result, log.read_text().splitlines()


def test_as_root_without_sudo_installs_only_the_missing_packages(tmp_path):
    result, log = _setup(tmp_path, 0, ["qemu-system-arm", "doctest-dev"], with_sudo=False)
    assert result.returncode == 0, result.stderr
    assert log == ["apt-get DEBIAN_FRONTEND=noninteractive update -qq",
                   "apt-get DEBIAN_FRONTEND=noninteractive install -y -qq --no-install-recommends "
                   "doctest-dev qemu-system-arm"]
    assert "setup: done" in result.stdout


def test_as_a_user_through_sudo(tmp_path):
    result, log = _setup(tmp_path, 1000, ["cmake"])
    assert result.returncode == 0, result.stderr
    assert log == ["sudo", "apt-get DEBIAN_FRONTEND=noninteractive update -qq",
                   "sudo", "apt-get DEBIAN_FRONTEND=noninteractive install -y -qq --no-install-recommends cmake"]


def test_as_a_user_without_sudo_says_so_in_one_line(tmp_path):
    result, log = _setup(tmp_path, 1000, ["cmake"], with_sudo=False)
    assert result.returncode == 1 and log == []
    assert result.stderr.strip().splitlines() == [
        "tinynet: error: setup: installing packages needs root, and sudo is not installed: run scripts/setup as root"]


def test_nothing_missing_needs_no_rights(tmp_path):
    result, log = _setup(tmp_path, 1000, [], with_sudo=False)
    assert result.returncode == 0 and log == []
    assert result.stdout.strip() == "setup: everything is installed"


def test_the_readme_starts_with_setup_without_sudo():
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```sh\n", 1)[1].split("```", 1)[0]
    assert first_block.splitlines()[0].startswith("scripts/setup && scripts/demo")
    assert "sudo" not in first_block
