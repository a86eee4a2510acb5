"""docs/operations.md's alert rules and docs/grafana/shopkeep.json name metrics that exist."""

from __future__ import annotations

import json
import pathlib
import re

import pytest
from django.test import Client

DOCS = pathlib.Path(__file__).resolve().parents[2] / "docs"
NAME = re.compile(r"\b(shopkeep_[a-z_]+)")


def exposed() -> set[str]:
    text = Client(REMOTE_ADDR="127.0.0.1").get("/metrics").content.decode()
    names = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            name, kind = line.split()[2:4]
            names.add(name)
            if kind == "histogram":
                names |= {f"{name}_bucket", f"{name}_count", f"{name}_sum"}
        elif line and not line.startswith("#"):
            names.add(line.split("{")[0].split()[0])
    return names


@pytest.mark.django_db
def test_every_metric_in_the_dashboard_and_the_rules_is_exposed():
    names = exposed()
    dashboard = json.loads((DOCS / "grafana" / "shopkeep.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    rules = (DOCS / "operations.md").read_text().split("### Alert rules", 1)[1].split("###")[0]
    used = {n for e in exprs for n in NAME.findall(e)} | set(NAME.findall(rules))
    assert len(exprs) >= 10 and len(used) >= 10
    assert used - names == set()
