"""Every setting a paper states (``reports/paper_settings/<recipe>.csv``) is what its recipe runs.

One test, parametrised over every recipe in :data:`benchmark.recipes.RECIPES` and every row of its
table: the value the recipe's ``paper`` budget resolves for the setting (cells' task parameters and
windows, the methods' ``paper`` budgets with the cells' overrides) must be the stated one, or the
setting must be a listed deviation (with its reason) that still differs. The quote must be the
paper's own words when the paper's text is next to the repository. A ``<recipe>-table`` case checks
that the table exists and that every deviation names a row of it.
"""

from __future__ import annotations

import pytest

from benchmark.recipes import (
    RECIPES,
    check_setting,
    load_settings_table,
    paper_text,
    quote_in_text,
    resolve_settings,
)

_RESOLVED: dict[str, dict] = {}


def _cases():
    for name, recipe in RECIPES.items():
        yield pytest.param(name, None, id=f"{name}-table")
        try:
            rows = load_settings_table(recipe)
        except Exception:  # reported by the -table case
            continue
        for row in rows:
            yield pytest.param(name, row, id=f"{name}-{row['setting']}")


@pytest.mark.parametrize("recipe_name, row", list(_cases()))
def test_item04_paper_budget_runs_every_setting_the_paper_states(recipe_name, row):
    recipe = RECIPES[recipe_name]
    if row is None:
        table = load_settings_table(recipe)  # one-line DataError when missing or malformed
        stated = {r["setting"] for r in table}
        unlisted = sorted(set(recipe.deviations) - stated)
        assert not unlisted, f"{recipe_name}: deviations {unlisted} name no row of its settings table"
        return
    if recipe_name not in _RESOLVED:
        _RESOLVED[recipe_name] = resolve_settings(recipe, "paper")
    problem = check_setting(recipe, _RESOLVED[recipe_name], row, "paper")
    assert problem is None, problem
    text = paper_text(recipe)
    if text is not None:
        assert quote_in_text(row["quote"], text), (
            f'{recipe_name}: the quote for {row["setting"]} is not in {recipe.paper_text}: "{row["quote"]}"'
        )
