"""The layers hold: no module imports, or names, an app from a layer above its own.

The layers are the import-linter contract in pyproject.toml (docs/architecture.md draws them).
`lint-imports` checks imports, including those inside functions; this file runs it, and adds
what it cannot see: a model named by a string, `apps.get_model("comments", "Comment")`,
`get_model("comments.Comment")` or `ForeignKey("comments.Comment")`, which reaches an upper
app without an import statement.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RELATION_FIELDS = {"ForeignKey", "OneToOneField", "ManyToManyField", "ForeignObject"}


def layer_of() -> dict[str, int]:
    """App name -> its layer's depth (0 = top), from the contract in pyproject.toml."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["type"] == "layers"]
    depth = {}
    for index, layer in enumerate(contract["layers"]):
        for app in layer.replace(":", "|").split("|"):
            depth[app.strip()] = index
    return depth


def _string(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _callee(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def named_apps(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, app label) for every model named by a string: get_model calls and relation fields."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        callee = _callee(node)
        if callee == "get_model":
            first = (
                node.args[0]
                if node.args
                else next((k.value for k in node.keywords if k.arg in ("app_label", "model_name")), None)
            )
            label = _string(first) if first is not None else None
            if label:
                found.append((node.lineno, label.split(".")[0]))
        elif callee in RELATION_FIELDS:
            target = (
                node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "to"), None)
            )
            label = _string(target) if target is not None else None
            if label and "." in label:
                found.append((node.lineno, label.split(".")[0]))
    return found


def imported_apps(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


def upward_references(finder) -> dict[str, list[str]]:
    depth = layer_of()
    offenders: dict[str, list[str]] = {}
    for app, own in depth.items():
        for path in sorted((ROOT / app).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            for line, label in finder(tree):
                if label in depth and depth[label] < own:
                    offenders.setdefault(f"{path.relative_to(ROOT)}:{line}", []).append(label)
    return offenders


def test_every_app_is_in_a_layer():
    apps = {p.parent.name for p in ROOT.glob("*/apps.py")}
    assert apps <= set(layer_of()), f"apps missing from the layers contract: {apps - set(layer_of())}"


def test_no_model_is_named_from_a_lower_layer():
    offenders = upward_references(named_apps)
    assert offenders == {}, f"these name a model of an app above their own layer: {offenders}"


def test_no_module_imports_from_a_higher_layer():
    """Top-level and function-local import statements alike (the caching modules still in
    sectorblog/ are the contract's listed exceptions)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["type"] == "layers"]
    allowed = {rule.split("-> ")[1].split(".")[0] for rule in contract.get("ignore_imports", [])}
    offenders = {
        where: labels for where, labels in upward_references(imported_apps).items() if set(labels) - allowed
    }
    assert offenders == {}, f"these import an app above their own layer: {offenders}"


def test_the_import_linter_contract_is_kept():
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint_imports, "import-linter is a dev dependency (pyproject.toml): install it"
    result = subprocess.run(
        [lint_imports, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_name_lookup_scan_sees_a_planted_lookup():
    """The scanner itself: each way of naming a model by string is found."""
    planted = ast.parse(
        'apps.get_model("comments", "Comment")\n'
        'get_model("comments.Comment")\n'
        'models.ForeignKey("comments.Comment", on_delete=models.CASCADE)\n'
        'models.ManyToManyField(to="federation.Follower")\n'
    )
    assert named_apps(planted) == [(1, "comments"), (2, "comments"), (3, "comments"), (4, "federation")]
