"""Dependencies point one way: geo and layouts import nothing of the project, the dashboard only the warehouse
contract of the ETL, and the ETL never the dashboard."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("etl", "geo", "layouts", "dashboard")


def imports_of(package: str) -> set[str]:
    """Every project module a package imports (absolute names)."""
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            found |= {name for name in names if name.split(".")[0] in PACKAGES}
    return found


def test_geo_and_layouts_import_nothing_of_the_project():
    assert {name for name in imports_of("geo") if not name.startswith("geo")} == set()
    assert {name for name in imports_of("layouts") if not name.startswith("layouts")} == set()


def test_dashboard_reads_only_the_warehouse_contract():
    outside = {name for name in imports_of("dashboard") if name.startswith("etl")}
    assert outside and all(name.startswith("etl.warehouse") for name in outside), outside


def test_etl_never_imports_the_dashboard():
    assert not any(name.startswith("dashboard") for name in imports_of("etl"))
