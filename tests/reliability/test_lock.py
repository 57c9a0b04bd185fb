"""requirements.lock (what the venv installs, with --require-hashes) and requirements.txt
(what we ask for) stay in step: same packages, same versions, every one hashed."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def _pins(text: str) -> dict[str, str]:
    pins = {}
    for line in text.splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", line)
        if match:
            pins[_name(match.group(1))] = match.group(2)
    return pins


def test_every_requirement_is_locked_at_the_same_version_with_hashes():
    wanted = _pins((ROOT / "requirements.txt").read_text())
    lock_text = (ROOT / "requirements.lock").read_text()
    locked = _pins(lock_text)
    assert {n: v for n, v in wanted.items() if locked.get(n) != v} == {}
    blocks = re.split(r"\n(?=[A-Za-z0-9])", lock_text.split("\n", 1)[1])
    unhashed = [b.split("==")[0] for b in blocks if "==" in b and "--hash=sha256:" not in b]
    assert unhashed == []
    assert len(locked) >= len(wanted)


def test_the_venv_installs_from_the_lock_with_hashes_required():
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes -r requirements-uv.lock" in makefile
    assert "uv pip sync --quiet --python $(PY) --require-hashes requirements.lock" in makefile


def test_the_bootstrapped_installer_is_pinned_with_the_hashes_of_its_wheels():
    """The pip that ships with Python installs uv from this file; every wheel is hashed and
    the version is the one the Makefile names."""
    text = (ROOT / "requirements-uv.lock").read_text()
    version = re.search(r"^UV_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.M).group(1)
    assert _pins(text) == {"uv": version}
    assert len(re.findall(r"--hash=sha256:[0-9a-f]{64}", text)) >= 10
