"""No import circles among marketo_stream's modules, the sandbox included.

import-linter's contracts (pyproject.toml) keep the layers pointing one way but have no contract for circles
inside a package; two modules or subpackages that import each other cannot be understood, tested or moved one
without the other. Imports under ``TYPE_CHECKING`` count: they are dependencies of the code's meaning all the same.
"""

from __future__ import annotations

import grimp
import pytest

ROOT = "marketo_stream"


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(ROOT)


def _circles(graph: grimp.ImportGraph) -> list[tuple[str, str]]:
    """Pairs of siblings (modules or subpackages of one package) each reaching the other, counting what their
    descendants import."""
    found = []
    for package in sorted(m for m in graph.modules if graph.find_children(m)):
        children = sorted(graph.find_children(package))
        for i, first in enumerate(children):
            for second in children[i + 1 :]:
                there = graph.chain_exists(importer=first, imported=second, as_packages=True)
                if there and graph.chain_exists(importer=second, imported=first, as_packages=True):
                    found.append((first, second))
    return found


def test_no_two_sibling_modules_or_packages_import_each_other(graph: grimp.ImportGraph) -> None:
    assert _circles(graph) == []


def test_the_check_sees_the_sandbox_and_every_package(graph: grimp.ImportGraph) -> None:
    packages = {m for m in graph.modules if graph.find_children(m)}
    assert {f"{ROOT}.sandbox", f"{ROOT}.sandbox.world", f"{ROOT}.sync", f"{ROOT}.operator.doctor"} <= packages


def test_a_circle_is_found_when_there_is_one() -> None:
    graph = grimp.ImportGraph()
    for module in ("pkg", "pkg.a", "pkg.b", "pkg.b.inner"):
        graph.add_module(module)
    graph.add_import(importer="pkg.a", imported="pkg.b.inner")
    graph.add_import(importer="pkg.b.inner", imported="pkg.a")
    assert _circles(graph) == [("pkg.a", "pkg.b")]
