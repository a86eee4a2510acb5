"""The commerce import graph, read from the source (issue 12, part 3).

Orders, disputes and subscriptions used to import delivery and the payment gateways, and the
gateways imported them back: a ten-module cycle held together by imports hidden inside
functions. Cross-domain reactions now live in ``payments/flows.py``. These tests walk the
AST of every module, function bodies included, and fail when a forbidden import returns.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

SRC = pathlib.Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "shopkeep"
# Domains whose service code must not reach sideways (their ``api`` modules are the HTTP
# layer and may call the flow layer, like the dashboard's views).
LOWER = ("shopkeep.orders", "shopkeep.disputes", "shopkeep.subscriptions")
COMMERCE = (*LOWER, "shopkeep.payments", "shopkeep.delivery", "shopkeep.customers",
            "shopkeep.catalog", "shopkeep.promotions")
NO_LOCAL_IMPORTS = (*LOWER, "shopkeep.payments", "shopkeep.customers")


def _name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, pathlib.Path]:
    return {_name(p): p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts}


MODULES = _modules()


def _under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def imports_of(source: str, modules=MODULES) -> list[tuple[str, int, bool]]:
    """(imported shopkeep module, line, inside a function or class) for every import,
    ``if TYPE_CHECKING:`` blocks excepted (they never run)."""
    tree = ast.parse(source)
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, nested: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            inner = nested or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef
                                         | ast.ClassDef)
            if isinstance(child, ast.ImportFrom) and (child.module or "").startswith(
                    "shopkeep"):
                for alias in child.names:
                    full = f"{child.module}.{alias.name}"
                    found.append((full if full in modules else child.module, child.lineno,
                                  inner))
            elif isinstance(child, ast.Import):
                found.extend((a.name, child.lineno, inner) for a in child.names
                             if a.name.startswith("shopkeep"))
            visit(child, inner)

    visit(tree, False)
    return found


GRAPH = {name: imports_of(path.read_text()) for name, path in MODULES.items()}


def forbidden(importer: str, imported: str) -> str:
    """Why ``importer`` may not import ``imported`` ('' when it may)."""
    if any(_under(importer, p) for p in LOWER):
        if _under(imported, "shopkeep.delivery"):
            return "a domain below the flow layer imports delivery"
        if (_under(imported, "shopkeep.payments.gateways")
                and imported != "shopkeep.payments.gateways.base"):
            return "a domain below the flow layer imports a payment gateway"
        if (imported in ("shopkeep.payments.flows", "shopkeep.payments.services",
                         "shopkeep.payments.tasks")
                and not importer.endswith(".api")):
            return "a domain imports the flow layer (only its HTTP api module may)"
    upward = ("shopkeep.payments", "shopkeep.disputes", "shopkeep.subscriptions",
              "shopkeep.orders.services", "shopkeep.orders.refunds")
    if _under(importer, "shopkeep.delivery") and any(_under(imported, p) for p in upward):
        return "delivery reaches up into payments or a domain's services"
    return ""


def test_no_domain_below_the_flow_layer_imports_delivery_gateways_or_flows():
    offenders = [f"{importer}:{line} imports {imported}: {why}"
                 for importer, found in GRAPH.items() for imported, line, _ in found
                 if (why := forbidden(importer, imported))]
    assert offenders == []


def test_commerce_modules_import_nothing_inside_functions():
    offenders = [f"{name}:{line} imports {imported} inside a function"
                 for name, found in GRAPH.items() for imported, line, nested in found
                 if nested and any(_under(name, p) for p in NO_LOCAL_IMPORTS)
                 and not name.endswith(".apps")]
    assert offenders == []


def _cycles(graph: dict[str, list[tuple[str, int, bool]]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    edges = {m: sorted({t for t, _, _ in found if t in graph}) for m, found in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[list[str]] = []
    counter = 0
    for root in edges:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            if i < len(edges[node]):
                work.append((node, i + 1))
                nxt = edges[node][i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    result.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return result


def _http_layer(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return module == "shopkeep.api" or last.startswith(("api", "views", "urls"))


def test_the_commerce_import_graph_has_no_cycle():
    """Function-local imports count: hiding an import in a function does not remove it.

    The HTTP layer is left out: ``delivery.api_agent`` renders through ``shopkeep.api``'s
    NinjaAPI instance, which mounts it (a web-layer loop, not a domain one)."""
    domain = {m: [e for e in found if not _http_layer(e[0])]
              for m, found in GRAPH.items() if not _http_layer(m)}
    commerce = [c for c in _cycles(domain) if any(_under(m, p) for m in c for p in COMMERCE)]
    assert commerce == []


# -- the checks themselves catch what they are for --------------------------------------------

FAKE = {"shopkeep.orders.refunds": None, "shopkeep.delivery.queue": None,
        "shopkeep.payments.gateways": None, "shopkeep.payments.flows": None}


@pytest.mark.parametrize(("importer", "source"), [
    ("shopkeep.orders.refunds", "from shopkeep.delivery import queue\n"),
    ("shopkeep.orders.refunds", "def f():\n    from shopkeep.payments.gateways import x\n"),
    ("shopkeep.subscriptions.services", "import shopkeep.payments.flows\n"),
    ("shopkeep.disputes.services", "from shopkeep.payments.flows import dispute_open\n"),
    ("shopkeep.delivery.queue", "from shopkeep.orders.refunds import refund_create\n"),
])
def test_a_returning_forbidden_import_is_caught(importer, source):
    assert any(forbidden(importer, imported) for imported, _, _ in imports_of(source, FAKE))


def test_an_import_inside_a_function_is_seen_and_type_checking_is_not():
    source = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
              "    from shopkeep.delivery import queue\n"
              "def f():\n    from shopkeep.orders import refunds\n")
    assert [(m, nested) for m, _, nested in imports_of(source, FAKE)] == [
        ("shopkeep.orders.refunds", True)]


def test_a_cycle_through_a_function_local_import_is_found():
    graph = {"shopkeep.orders.refunds": imports_of("from shopkeep.payments import flows\n",
                                                   {"shopkeep.payments.flows": None}),
             "shopkeep.payments.flows": imports_of(
                 "def f():\n    from shopkeep.orders import refunds\n",
                 {"shopkeep.orders.refunds": None})}
    assert _cycles(graph) == [["shopkeep.orders.refunds", "shopkeep.payments.flows"]]


def test_the_api_modules_may_call_the_flow_layer():
    assert not forbidden("shopkeep.orders.api", "shopkeep.payments.flows")
    assert forbidden("shopkeep.orders.api", "shopkeep.delivery.queue")
