"""The README's reliability table names a guarantee per integrity item and tests that exist."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def reliability_rows() -> dict[int, str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Reliability and threat model", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        m = re.match(r"\|\s*(\d+)\s*\|(.*)\|\s*$", line)
        if m:
            rows[int(m.group(1))] = m.group(2)
    return rows


def named_tests(cell: str) -> list[tuple[str, str]]:
    """``(file, function)`` pairs of a table cell; ``::name`` alone reuses the previous file."""
    out, current = [], None
    for ref in re.findall(r"`([^`]*::[^`]+)`", cell):
        path, name = ref.split("::", 1)
        current = path or current
        out.append((current, name))
    return out


def test_every_integrity_item_has_a_guarantee_and_tests():
    rows = reliability_rows()
    assert sorted(rows) == list(range(1, 17))
    for item, cell in rows.items():
        tests = named_tests(cell)
        assert tests, f"item {item} names no test"
        assert all(f"item{item:02d}" in name for _, name in tests if name.startswith("test_item")), item


def test_every_test_the_table_names_exists():
    defined: dict[str, set[str]] = {}
    for item, cell in reliability_rows().items():
        for path, name in named_tests(cell):
            if path not in defined:
                tree = ast.parse((ROOT / path).read_text())
                defined[path] = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
            assert name in defined[path], f"README item {item}: {path}::{name} does not exist"
