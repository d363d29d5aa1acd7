"""The official twitter-text library (node, tests/oracle/) as a reference for the property tests.

`npm install` in tests/oracle/ makes it available (.ci/run does so when the npm registry is reachable); without
node or the package, `available()` is False and the tests that use it skip with `REASON`.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

ORACLE_DIR = Path(__file__).resolve().parents[1] / "oracle"
SCRIPT = ORACLE_DIR / "oracle.js"
REASON = "the twitter-text oracle needs node and `npm install` in tests/oracle/"


@functools.cache
def available() -> bool:
    node = shutil.which("node")
    if node is None or not (ORACLE_DIR / "node_modules" / "twitter-text").is_dir():
        return False
    try:
        return run(["ok"])[0]["parse"]["valid"] is True
    except (OSError, subprocess.SubprocessError, ValueError, KeyError, IndexError):
        return False


def run(texts: list[str]) -> list[dict[str, Any]]:
    """twitter-text's parseTweet, extractUrlsWithIndices and extractHashtags for each text (indices in UTF-16)."""
    node = shutil.which("node") or "node"
    done = subprocess.run(
        [node, str(SCRIPT)],
        input=json.dumps(texts, ensure_ascii=True),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=True,
        cwd=ORACLE_DIR,
    )
    result: list[dict[str, Any]] = json.loads(done.stdout)
    return result
