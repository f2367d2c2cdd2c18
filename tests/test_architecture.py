"""The dependency rule, checked on every import of the code (function-local ones too).

Domain apps depend one way: accounts ← leads ← scoring ← handoff ← feedback. The
composing pages (``portal``) sit above all of them, and nothing imports ``portal``
but the URL configuration. The rest of ``config`` (settings, the Celery app, database
and API helpers) is infrastructure below every app: apps may use it, it uses no app.
``common`` is pure and imports no project code; the scoring engine imports nothing but
the standard library, ``common`` and itself.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["common", "accounts", "leads", "scoring", "handoff", "feedback", "portal"]
PROJECT = {*LAYERS, "config", "tests", "benchmarks"}


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in the file, wherever it stands."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", "") == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.append((node.lineno, str(node.args[0].value)))
    return found


def _files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _violations() -> list[str]:
    bad = []
    for rank, package in enumerate(LAYERS):
        for path in _files(package):
            for line, module in _imports(path):
                top = module.split(".")[0]
                wiring = module.startswith("config.urls") or top in ("tests", "benchmarks")
                if wiring or (top in LAYERS and LAYERS.index(top) > rank):
                    bad.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return bad


def test_every_package_was_read():
    for package in ["common", "accounts", "leads", "scoring", "portal"]:
        assert _files(package), package
    assert any(m == "scoring.engine" for _, m in _imports(ROOT / "scoring/services/rescore.py"))


def test_no_import_runs_the_wrong_way():
    assert _violations() == []


def test_the_check_catches_a_wrong_way_import(tmp_path, monkeypatch):
    # The check itself must fail on a function-local import of a higher app.
    fake = tmp_path / "leads"
    fake.mkdir()
    (fake / "sneaky.py").write_text("def f():\n    from scoring.models import Band\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    for package in LAYERS:
        (tmp_path / package).mkdir(exist_ok=True)
    assert _violations() == ["leads/sneaky.py:2 imports scoring.models"]


def test_nothing_below_the_composing_pages_imports_them():
    users = {
        str(path.relative_to(ROOT))
        for package in [*LAYERS, "config"]
        for path in _files(package)
        for _, module in _imports(path)
        if module.split(".")[0] == "portal" and not str(path).startswith(str(ROOT / "portal"))
    }
    assert users <= {"config/urls.py"}


def test_the_infrastructure_imports_no_app():
    for path in _files("config"):
        if path.name in ("urls.py", "wsgi.py"):
            continue
        for line, module in _imports(path):
            top = module.split(".")[0]
            assert top not in LAYERS, f"{path.relative_to(ROOT)}:{line} imports {module}"


def _is_stdlib(module: str) -> bool:
    return module.split(".")[0] in sys.stdlib_module_names or module == "__future__"


@pytest.mark.parametrize("package", ["common", "scoring/engine"])
def test_pure_code_imports_only_the_standard_library(package):
    own = package.replace("/", ".")
    for path in _files(package):
        for line, module in _imports(path):
            allowed = _is_stdlib(module) or module.startswith((own, "common"))
            assert allowed, f"{path.relative_to(ROOT)}:{line} imports {module}"


def test_the_review_maths_imports_no_django():
    # The threshold review's maths: the standard library, numpy, scikit-learn and itself.
    for path in _files("feedback/review"):
        for line, module in _imports(path):
            top = module.split(".")[0]
            allowed = (
                _is_stdlib(module)
                or top in ("numpy", "sklearn")
                or module.startswith("feedback.review")
            )
            assert allowed, f"{path.relative_to(ROOT)}:{line} imports {module}"
