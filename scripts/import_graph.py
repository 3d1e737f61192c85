"""Print the project's import cycles and module sizes: python scripts/import_graph.py [--max-lines N]

Every Import/ImportFrom counts, wherever it sits (module top, function body, TYPE_CHECKING block), so a
lazy import that only hides a circle still shows up. Exit status 1 when there is a cycle or an oversized
module (migrations, tests and benchmarks excepted), so CI or tests/test_house.py can call it.
"""
import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("webapp", "recommender", "crawler", "scripts")
EXEMPT_PARTS = {"migrations", "tests", "bench"}


def modules(root=ROOT):
    """Map dotted module name -> path for every project .py file."""
    found = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _resolve(name, known):
    """The project module an imported name lands in (a package, or its submodule), or None."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def imports(module, path, known):
    """Project modules `module` imports anywhere in its file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_package = path.name == "__init__.py"
    targets = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                targets.add(_resolve(alias.name, known))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            for alias in node.names:
                # `from pkg import sub` imports the submodule when there is one.
                targets.add(_resolve(f"{stem}.{alias.name}", known) or _resolve(stem, known))
    targets.discard(None)
    targets.discard(module)
    # A submodule importing its own package's __init__ is Python's normal start-up, not a circle.
    return {t for t in targets if not module.startswith(t + ".")}


def graph(root=ROOT):
    known = modules(root)
    return {m: imports(m, p, known) for m, p in known.items()}, known


def cycles(edges):
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, result = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(result)


def sizes(known):
    """(lines, module, exempt) for every module, largest first."""
    rows = []
    for module, path in known.items():
        exempt = bool(EXEMPT_PARTS & set(path.relative_to(ROOT).parts))
        rows.append((len(path.read_text(encoding="utf-8").splitlines()), module, exempt))
    return sorted(rows, reverse=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-lines", type=int, default=350)
    parser.add_argument("--top", type=int, default=15, help="how many of the largest modules to list")
    args = parser.parse_args(argv)
    edges, known = graph()
    found = cycles(edges)
    print(f"{len(known)} modules, {sum(len(v) for v in edges.values())} project imports")
    print(f"import cycles (lazy imports included): {len(found)}")
    for component in found:
        inner = [f"{a} -> {b}" for a in component for b in sorted(edges[a]) if b in component]
        print("  {" + ", ".join(component) + "}")
        for edge in inner:
            print("      " + edge)
    rows = sizes(known)
    over = [(n, m) for n, m, exempt in rows if n > args.max_lines and not exempt]
    print(f"modules over {args.max_lines} lines (migrations/tests/bench aside): {len(over)}")
    for n, m in over:
        print(f"  {n:5d}  {m}")
    print(f"largest {args.top} modules:")
    for n, m, _ in rows[: args.top]:
        print(f"  {n:5d}  {m}")
    return 1 if found or over else 0


if __name__ == "__main__":
    sys.exit(main())
