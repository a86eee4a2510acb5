# ruff: noqa: S603, S103 - runs pip by a known path; the archive is a program (0755)
"""Build ``shopkeep-agent.pyz``: the agent and its two pure-Python dependencies in one
zipapp that runs on Python 3.9+ without pip (``python3 shopkeep-agent.pyz run``).

    python agent/packaging/build_pyz.py [--out agent/build/shopkeep-agent.pyz]

Dependencies are installed with the *oldest* supported Python (``PYZ_PYTHON``, default
``python3.9``) so pip picks versions that run there; compiled extension modules are left
out (a zip cannot load them; the libraries fall back to pure Python).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import zipapp
from pathlib import Path

HERE = Path(__file__).resolve().parent
AGENT = HERE.parent
SKIP_SUFFIXES = (".so", ".pyd", ".dylib", ".pyc")


def build(out: Path, python: str) -> Path:
    stage = AGENT / "build" / "pyz"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-compile", "--target",
                    str(stage), "-r", str(HERE / "pyz-requirements.txt")], check=True)
    shutil.copytree(AGENT / "src" / "shopkeep_agent", stage / "shopkeep_agent",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for path in list(stage.rglob("*")):
        if path.is_dir() and (path.name.endswith((".dist-info", ".egg-info"))
                              or path.name == "bin" or path.name == "__pycache__"):
            shutil.rmtree(path, ignore_errors=True)
        elif path.is_file() and path.name.endswith(SKIP_SUFFIXES):
            path.unlink()
    out.parent.mkdir(parents=True, exist_ok=True)
    zipapp.create_archive(stage, out, interpreter="/usr/bin/env python3",
                          main="shopkeep_agent.cli:main", compressed=True)
    os.chmod(out, 0o755)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(AGENT / "build" / "shopkeep-agent.pyz"))
    parser.add_argument("--python", default=os.environ.get("PYZ_PYTHON", "python3.9"),
                        help="interpreter whose pip resolves the dependencies")
    options = parser.parse_args()
    out = build(Path(options.out), options.python)
    print(f"built {out} ({out.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
