"""Charts as inline SVG, drawn on the server: no chart library, readable without JavaScript, and each chart
carries a text summary for screen readers. Enough for time series (lines) and comparisons (bars)."""

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT, PAD_X, PAD_Y = 640, 200, 40, 28
COLOURS = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2")


def _empty(title: str) -> Markup:
    return Markup(f'<figure class="chart"><figcaption>{escape(title)}</figcaption><p>No data.</p></figure>')


def _text(x: float, y: float, text: str, anchor: str = "start") -> str:
    return f'<text x="{x}" y="{y}" text-anchor="{anchor}" class="tick">{escape(text)}</text>'


def _number(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value / 1000:.1f}k"
    if abs(value) >= 10 or value == 0:
        return f"{value:.0f}"
    return f"{value:.2g}" if abs(value) < 1 else f"{value:.1f}"


def line_chart(
    title: str, labels: Sequence[str], series: dict[str, Sequence[float | None]], unit: str = ""
) -> Markup:
    """One line per series over shared x labels; gaps (None) break a line."""
    values = [v for points in series.values() for v in points if v is not None]
    if not labels or not values:
        return Markup(
            f'<figure class="chart"><figcaption>{escape(title)}</figcaption><p>No data.</p></figure>'
        )
    top = max(values) or 1.0
    step = (WIDTH - 2 * PAD_X) / max(1, len(labels) - 1)

    def point(index: int, value: float) -> str:
        return f"{PAD_X + index * step:.1f},{HEIGHT - PAD_Y - value / top * (HEIGHT - 2 * PAD_Y):.1f}"

    parts = [
        f'<line x1="{PAD_X}" y1="{HEIGHT - PAD_Y}" x2="{WIDTH - PAD_X}" y2="{HEIGHT - PAD_Y}" class="axis"/>',
        f'<line x1="{PAD_X}" y1="{PAD_Y}" x2="{WIDTH - PAD_X}" y2="{PAD_Y}" class="grid"/>',
        _text(PAD_X - 4, PAD_Y - 6, f"{_number(top)}{unit}"),
        _text(PAD_X - 6, HEIGHT - PAD_Y + 4, "0", "end"),
        _text(PAD_X, HEIGHT - 4, labels[0]),
        _text(WIDTH - PAD_X, HEIGHT - 4, labels[-1], "end"),
    ]
    legend = []
    for number, (name, points) in enumerate(series.items()):
        colour = COLOURS[number % len(COLOURS)]
        runs: list[list[str]] = [[]]
        for index, value in enumerate(points):
            if value is None:
                runs.append([])
                continue
            runs[-1].append(point(index, value))
            x, y = point(index, value).split(",")
            tip = f"{name} {labels[index]}: {_number(value)}{unit}"
            parts.append(
                f'<circle cx="{x}" cy="{y}" r="2.5" fill="{colour}"><title>{escape(tip)}</title></circle>'
            )
        parts += [
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(run)}"/>'
            for run in runs
            if len(run) > 1
        ]
        legend.append(f'<span class="key" style="--c:{colour}">{escape(name)}</span>')
    summary = "; ".join(
        f"{name}: latest {_number(next((v for v in reversed(p) if v is not None), 0))}{unit}, peak "
        f"{_number(max((v for v in p if v is not None), default=0))}{unit}"
        for name, p in series.items()
    )
    return Markup(
        f'<figure class="chart"><figcaption>{escape(title)} <span class="legend">{"".join(legend)}</span>'
        f'</figcaption><svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}: '
        f'{escape(summary)}">{"".join(parts)}</svg></figure>'
    )


def bar_chart(title: str, bars: Sequence[tuple[str, float]], unit: str = "") -> Markup:
    """Horizontal bars, one per label (e.g. a metric per experiment)."""
    if not bars:
        return Markup(
            f'<figure class="chart"><figcaption>{escape(title)}</figcaption><p>No data.</p></figure>'
        )
    top = max(v for _, v in bars) or 1.0
    rows = "".join(
        f'<div class="bar"><span class="label">{escape(label)}</span><span class="track">'
        f'<span class="fill" style="width:{max(0.0, value) / top * 100:.1f}%"></span></span>'
        f'<span class="value">{_number(value)}{escape(unit)}</span></div>'
        for label, value in bars
    )
    caption = f"<figcaption>{escape(title)}</figcaption>"
    return Markup(f'<figure class="chart bars" aria-label="{escape(title)}">{caption}{rows}</figure>')


def overlay_chart(
    title: str, labels: Sequence[str], reference: Sequence[float], current: Sequence[float]
) -> Markup:
    """Two distributions on shared bins, side by side per bin (reference, then current): a drift overlay."""
    if not labels:
        return _empty(title)
    top = max([*reference, *current, 0.0]) or 1.0
    width = (WIDTH - 2 * PAD_X) / len(labels)
    bar = max(1.0, width / 2 - 1)
    parts = [
        f'<line x1="{PAD_X}" y1="{HEIGHT - PAD_Y}" x2="{WIDTH - PAD_X}" y2="{HEIGHT - PAD_Y}" class="axis"/>'
    ]
    for index, label in enumerate(labels):
        for side, (values, colour) in enumerate(((reference, COLOURS[0]), (current, COLOURS[1]))):
            value = values[index] if index < len(values) else 0.0
            height = value / top * (HEIGHT - 2 * PAD_Y)
            x = PAD_X + index * width + side * (bar + 1)
            tip = f"{'reference' if side == 0 else 'current'} {label}: {value:.1%}"
            parts.append(
                f'<rect x="{x:.1f}" y="{HEIGHT - PAD_Y - height:.1f}" width="{bar:.1f}" '
                f'height="{height:.1f}" fill="{colour}"><title>{escape(tip)}</title></rect>'
            )
    parts += [_text(PAD_X, HEIGHT - 4, labels[0]), _text(WIDTH - PAD_X, HEIGHT - 4, labels[-1], "end")]
    legend = "".join(
        f'<span class="key" style="--c:{c}">{n}</span>'
        for n, c in (("reference", COLOURS[0]), ("current", COLOURS[1]))
    )
    summary = f"{len(labels)} bins; reference and current shares side by side"
    return Markup(
        f'<figure class="chart"><figcaption>{escape(title)} <span class="legend">{legend}</span></figcaption>'
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}: {summary}">'
        f"{''.join(parts)}</svg></figure>"
    )
