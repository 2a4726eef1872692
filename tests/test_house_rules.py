"""House rules of the code base that a test can check: no function in benchmark/ over 80 lines unless
its docstring says why."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").exists())
MAX_LINES = 80
# A docstring line starting with this says why a function may stay long.
MARKER = "Long because"


def _length(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines of a function, its decorators, signature and docstring included."""
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return node.end_lineno - first + 1


def _says_why(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    doc = ast.get_docstring(node) or ""
    return any(line.strip().startswith(MARKER) for line in doc.splitlines())


def long_functions(files: list[Path], root: Path, max_lines: int = MAX_LINES) -> list[str]:
    """``path:line name (N lines)`` of every function over ``max_lines`` whose docstring does not say why."""
    found = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = _length(node)
                if length > max_lines and not _says_why(node):
                    found.append(f"{path.relative_to(root)}:{node.lineno} {node.name} ({length} lines)")
    return found


def test_no_function_over_80_lines_in_benchmark():
    files = sorted((ROOT / "benchmark").rglob("*.py"))
    assert files
    found = long_functions(files, ROOT)
    assert not found, (
        f"functions over {MAX_LINES} lines in benchmark/: split them into named steps, or start a line of the "
        f"docstring with '{MARKER}' saying why:\n" + "\n".join(found)
    )


def _write(tmp_path: Path, body_lines: int, doc: str, decorators: int = 0) -> Path:
    """A module with one function ``f`` of ``decorators`` decorators, a docstring and ``body_lines`` lines."""
    source = "import functools\n" + "@functools.cache\n" * decorators + f"def f():\n    {doc!r}\n"
    source += "".join(f"    x{i} = {i}\n" for i in range(body_lines))
    path = tmp_path / "module.py"
    path.write_text(source)
    return path


def test_long_function_rule_counts_decorators_and_docstring_and_honours_the_marker(tmp_path):
    # def + docstring + 78 body lines = 80: allowed; one more line, or a decorator, is over.
    assert long_functions([_write(tmp_path, 78, "Short.")], tmp_path) == []
    assert long_functions([_write(tmp_path, 79, "Short.")], tmp_path) == ["module.py:2 f (81 lines)"]
    assert long_functions([_write(tmp_path, 78, "Short.", decorators=1)], tmp_path) == ["module.py:3 f (81 lines)"]
    why = textwrap.dedent("""\
        Short summary.

        Long because it is a table of cases.""")
    assert long_functions([_write(tmp_path, 200, why)], tmp_path) == []
    # The marker must start a line: a mention inside a sentence is not a reason.
    assert long_functions([_write(tmp_path, 200, "Not Long because of this.")], tmp_path) == [
        "module.py:2 f (202 lines)"
    ]
