"""The code's shape stays readable: no source file over 400 lines (no test file over 500), no
function over 60.

ruff's complexity check (C901) and mypy's disallow_untyped_defs (pyproject.toml) keep the
rest; this test keeps what neither tool measures.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("assistant", "index", "eval", "prompts")
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60


def _sources() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def _long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1})"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (node.end_lineno or node.lineno) - node.lineno + 1 > MAX_FUNCTION_LINES
    ]


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_file_is_short(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_FILE_LINES, f"{path.relative_to(ROOT)} has {lines} lines"


MAX_TEST_FILE_LINES = 500  # looser: a test file reads top to bottom, one behaviour a section


@pytest.mark.parametrize(
    "path", sorted((ROOT / "tests").glob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_test_file_is_short(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_TEST_FILE_LINES, f"{path.relative_to(ROOT)} has {lines} lines: split it"


def test_no_long_functions() -> None:
    long = [entry for path in _sources() for entry in _long_functions(path)]
    assert not long, "functions over 60 lines:\n" + "\n".join(long)


def test_how_it_works_names_each_module_once():
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## How it works", 1)[1].split("\n## ", 1)[0]
    modules = [
        p
        for pkg in ("assistant", "index")
        for p in (ROOT / pkg).rglob("*.py")
        if p.name not in {"__init__.py", "__main__.py"}
    ]
    counts = {
        str(p.relative_to(ROOT)): len(re.findall(rf"\b{re.escape(p.name)}\b", section))
        for p in modules
    }
    assert {m: n for m, n in counts.items() if n != 1} == {}


def _imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, at the top or inside a function (TYPE_CHECKING too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_nothing_under_assistant_or_index_imports_eval():
    """eval -> assistant -> index, never back: `assistant eval` and `assistant bench` reach
    the eval package through the `assistant.commands` entry points (assistant/plugins.py)."""
    upward = [
        f"{path.relative_to(ROOT)} imports {name}"
        for pkg in ("assistant", "index")
        for path in sorted((ROOT / pkg).rglob("*.py"))
        for name in sorted(_imported_modules(path))
        if name == "eval" or name.startswith("eval.")
    ]
    assert upward == []


def test_eval_and_bench_are_registered_commands():
    from assistant.plugins import commands

    registered = commands()
    assert {"eval", "bench"} <= set(registered)
    assert all(registered[n].value.startswith("eval.") for n in ("eval", "bench"))


def test_generators_are_registered_entry_points():
    """`make_generator` finds generators the way a plugin adds one: the
    `assistant.generators` entry points (pyproject.toml), not a list in the code."""
    from importlib.metadata import entry_points

    from assistant.generators import GROUP, NAMES

    registered = {ep.name: ep.value for ep in entry_points(group=GROUP)}
    assert (NAMES, registered["local"]) == (
        ("local", "extractive", "openai"),
        "assistant.generators.local:LocalGenerator",
    )


def _generator_probes(path: Path) -> list[str]:
    """getattr/hasattr calls whose object is named like a generator (`gen`, `generator`,
    `run.gen`, `self.generator`, ...)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in {"getattr", "hasattr"}
            and node.args
        ):
            continue
        target = node.args[0]
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name.lower().endswith(("gen", "generator", "generators")):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(node)}")
    return found


def test_no_generator_ability_is_probed_with_getattr():
    """A generator declares what it can do (`Generator.can_prime`, ...); nothing under
    assistant/ or eval/ asks it with getattr or hasattr."""
    probes = [
        hit
        for pkg in ("assistant", "eval")
        for path in sorted((ROOT / pkg).rglob("*.py"))
        for hit in _generator_probes(path)
    ]
    assert probes == []


def _import_graph(package: str) -> dict[str, set[str]]:
    """Module -> the modules of `package` it imports (at the top, inside a function or for
    type checking). `from pkg import mod` is an import of `pkg.mod`, not of `pkg`."""
    modules = {}
    for path in (ROOT / package).rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        modules[name.removesuffix(".__init__")] = path
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                subs = [f"{node.module}.{alias.name}" for alias in node.names]
                targets = [t for t in subs if t in modules]
                targets += [node.module] * (len(targets) < len(subs))
            else:
                continue
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != module:
                    graph[module].add(target)
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while (w := stack.pop()) != v:
                group.append(w)
            if group:
                found.append(sorted([v, *group]))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_circle_inside_assistant():
    """Each room imports down, never back: no module of assistant/ reaches itself through
    its imports (lazy ones inside a function count too)."""
    assert _circles(_import_graph("assistant")) == []


def test_no_generator_class_is_asked_for_outside_generators():
    """Outside assistant/generators/ a generator is known by its name and what it declares
    (`Generator.can_*`, `Generator.loading`), never by its class."""
    asked = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for pkg in ("assistant", "eval")
        for path in sorted((ROOT / pkg).rglob("*.py"))
        if "generators" not in path.parts
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", "") == "isinstance"
        and "Generator" in ast.unparse(node.args[1])
    ]
    assert asked == []


# What only assistant/rules/text.py may define: a second copy of any of these is a rule
# written twice (a number with "/" in one place and not in the other).
SHARED_PATTERNS = {
    "number pattern": r"d+(?:[",
    "sentence splitter at end marks": r"(?<=[.!?])",
    "clause splitter": r"[^.!?\n]+",
    "word tokenizer": r"[A-Za-z0-9]+(?:",
    "letters-only tokenizer": r'findall(r"[A-Za-z]+"',
    "word-character tokenizer": r'r"\w+"',
    "stop-word list": "STOPWORDS = ",
    "yes/no words": '"yes", "no"',
    "stemmer": 'Stemmer.Stemmer("english")',
}


def test_each_shared_text_rule_is_defined_once_in_rules_text():
    """The tokenizer, sentence and clause splitters, number pattern, stop words, yes/no
    words and stemmer of the rules live in assistant/rules/text.py alone (bm25s keeps its
    own tokenizing inside retrieve.py: the search's index, not a rule)."""
    text = ROOT / "assistant" / "rules" / "text.py"
    elsewhere = [
        f"{path.relative_to(ROOT)}: {name}"
        for pkg in ("assistant", "index")
        for path in sorted((ROOT / pkg).rglob("*.py"))
        if path != text
        for name, pattern in SHARED_PATTERNS.items()
        if pattern in path.read_text(encoding="utf-8")
    ]
    assert elsewhere == []
    source = text.read_text(encoding="utf-8")
    other_tokenizers = ("letters-only tokenizer", "word-character tokenizer")
    assert [
        n for n, p in SHARED_PATTERNS.items() if n not in other_tokenizers and p not in source
    ] == []
