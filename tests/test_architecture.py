"""Dependencies point one way: comments may import posts; posts never imports comments."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_posts_never_imports_comments():
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            m for m in imported_modules(path) if m.split(".")[0] == "comments"
        )
        for path in (ROOT / "posts").rglob("*.py")
    }
    offenders = {path: mods for path, mods in offenders.items() if mods}
    assert offenders == {}, f"posts must not import comments: {offenders}"


def test_nothing_below_the_newsletter_imports_it():
    """newsletter/ sits above posts, comments and core: they offer hooks, it registers."""
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            m for m in imported_modules(path) if m.split(".")[0] == "newsletter"
        )
        for app in ("core", "posts", "comments")
        for path in (ROOT / app).rglob("*.py")
    }
    offenders = {path: mods for path, mods in offenders.items() if mods}
    assert offenders == {}, f"core, posts and comments must not import newsletter: {offenders}"


def test_nothing_below_federation_imports_it():
    """federation/ sits above core, posts and comments: they never import it, nor look its models
    up by name (it connects to their signals and hooks instead)."""
    offenders = {}
    for app in ("core", "posts", "comments"):
        for path in (ROOT / app).rglob("*.py"):
            found = sorted(m for m in imported_modules(path) if m.split(".")[0] == "federation")
            if found or 'get_model("federation"' in path.read_text():
                offenders[str(path.relative_to(ROOT))] = found or ["get_model"]
    assert offenders == {}, f"below federation, these import it: {offenders}"
