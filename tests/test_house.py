"""The house plan's shape, checked from the source (scripts/import_graph.py): no import circle among
the project's modules (lazy imports included), no module over 350 lines outside migrations, tests
and benchmarks, and pure cores that import nothing from Django."""

import ast
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("import_graph", ROOT / "scripts" / "import_graph.py")
import_graph = importlib.util.module_from_spec(spec)
spec.loader.exec_module(import_graph)

MAX_LINES = 350
PURE_CORES = ("recommender/emotion", "recommender/lyrics", "recommender/ranking.py", "recommender/scoring.py",
              "recommender/catalogue")


def test_no_import_cycles_among_project_modules():
    edges, _known = import_graph.graph()
    assert import_graph.cycles(edges) == []


def test_the_cycle_finder_sees_lazy_imports(tmp_path):
    for package, body in {"webapp": "def f():\n    from recommender import b\n",
                          "recommender": "from webapp import a\n"}.items():
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
        (tmp_path / package / ("a.py" if package == "webapp" else "b.py")).write_text(body)
    edges, _known = import_graph.graph(tmp_path)
    assert import_graph.cycles(edges) == [["recommender.b", "webapp.a"]]


def test_no_module_over_the_size_limit():
    _edges, known = import_graph.graph()
    over = {module: lines for lines, module, exempt in import_graph.sizes(known) if not exempt and lines > MAX_LINES}
    assert over == {}, "split these modules"


def test_pure_cores_import_nothing_from_django():
    files = []
    for core in PURE_CORES:
        path = ROOT / core
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    offenders = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] == "django"]
    assert offenders == []
