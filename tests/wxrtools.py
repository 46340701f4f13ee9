"""WordPress's own WXR parser (`<repo>/../shared/tools/wxr-parser/`, run with php-cli) as a test
oracle, and the shared WXR test data. Tests that need them skip, saying why, when they are absent."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
PARSER = SHARED / "tools" / "wxr-parser" / "wxr_counts.php"
TESTDATA = SHARED / "testdata" / "wxr"


def skip(reason: str) -> None:
    print(f"SKIPPED: {reason}")
    pytest.skip(reason)


def need_file(path: Path) -> Path:
    if not path.is_file():
        skip(f"{path} not found (the shared folder sits beside the repository: ../shared)")
    return path


def wordpress_counts(path: Path, parser: str = "simplexml") -> dict:
    """What WordPress's importer sees in a WXR file (see the driver's README)."""
    php = shutil.which("php")
    if php is None:
        skip("php is not installed (apt-get install php-cli php-xml): WordPress's WXR parser needs it")
    need_file(PARSER)
    done = subprocess.run([php, str(PARSER), str(path), parser], capture_output=True, text=True, timeout=120)
    result = json.loads(done.stdout)
    assert done.returncode == 0 and "error" not in result, (result, done.stderr)
    return result
