from keel.cli.output import _cell


def test_cells_format_by_column() -> None:
    assert _cell("progress", 0.5) == "50%"
    assert _cell("duration_ms", 0.0912) == "0.1"
    assert _cell("duration_ms", 1234.56) == "1234.6"
    assert _cell("cost_usd", None) == "-"
    assert _cell("attempts", 2) == "2"
