"""docs/grafana-keel.json only queries metrics that `/metrics` exports (a renamed metric breaks this)."""

import json
import re
from pathlib import Path

from keel.monitoring import metrics

DASHBOARD = Path(__file__).parents[2] / "docs" / "grafana-keel.json"


def test_every_dashboard_query_names_an_exported_metric() -> None:
    source = Path(metrics.__file__).read_text()
    exported = set(re.findall(r'"(keel_[a-z_]+)"', source))
    queries = [t["expr"] for p in json.loads(DASHBOARD.read_text())["panels"] for t in p["targets"]]
    named = {
        re.sub(r"_(total|bucket|count|sum)$", "", m) for q in queries for m in re.findall(r"keel_[a-z_]+", q)
    }
    assert named
    assert named <= exported, named - exported
