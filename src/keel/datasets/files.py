"""Dataset files: JSONL and CSV in, JSONL and CSV out.

JSONL: one object per line with `input` and optional `expected`, `metadata`, `split`. CSV: a header row; an
`input` column (or `input.NAME` columns, which make `input` an object of variables), optional `expected` and
`split`; every other column goes to `metadata`. Problems are reported per line; with `skip_invalid` the good
rows are kept and the bad ones listed, otherwise the file is refused whole.
"""

import csv
import io
from typing import Any

import orjson
from pydantic import ValidationError

from keel.core.errors import InvalidInput
from keel.datasets.schemas import ItemIn

MAX_REPORTED = 20


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"the file is not UTF-8 text (byte {exc.start} is {raw[exc.start]:#04x})"
        ) from None


def _item(row: Any, line: int) -> ItemIn:
    if not isinstance(row, dict):
        raise ValueError("a line must be a JSON object with an `input`")
    try:
        return ItemIn.model_validate(row)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'row'}: {e['msg']}" for e in exc.errors())
        raise ValueError(problems) from None


def parse_jsonl(raw: bytes) -> list[tuple[int, ItemIn | str]]:
    parsed: list[tuple[int, ItemIn | str]] = []
    for number, line in enumerate(_decode(raw).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            parsed.append((number, _item(orjson.loads(line), number)))
        except orjson.JSONDecodeError as exc:
            parsed.append((number, f"not valid JSON: {exc}"))
        except ValueError as exc:
            parsed.append((number, str(exc)))
    return parsed


def parse_csv(raw: bytes) -> list[tuple[int, ItemIn | str]]:
    reader = csv.reader(io.StringIO(_decode(raw), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput("the CSV file is empty") from None
    except csv.Error as exc:
        raise InvalidInput(f"the CSV header cannot be read: {exc}") from None
    variables = [c for c in header if c.startswith("input.")]
    if "input" not in header and not variables:
        raise InvalidInput("the CSV needs an `input` column or `input.NAME` columns")
    parsed: list[tuple[int, ItemIn | str]] = []
    try:
        for row in reader:
            number = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                parsed.append((number, f"has {len(row)} fields; the header has {len(header)}"))
                continue
            cells = dict(zip(header, row, strict=True))
            data: dict[str, Any] = {
                "input": {c[6:]: cells[c] for c in variables} if variables else cells["input"],
                "expected": cells.get("expected") or None,
                "split": cells.get("split") or None,
                "metadata": {
                    k: v
                    for k, v in cells.items()
                    if k not in ("input", "expected", "split") and k not in variables
                },
            }
            try:
                parsed.append((number, _item(data, number)))
            except ValueError as exc:
                parsed.append((number, str(exc)))
    except csv.Error as exc:
        raise InvalidInput(f"the CSV cannot be read at line {reader.line_num}: {exc}") from None
    return parsed


def accept(
    parsed: list[tuple[int, ItemIn | str]], skip_invalid: bool
) -> tuple[list[ItemIn], list[dict[str, Any]]]:
    good = [item for _, item in parsed if isinstance(item, ItemIn)]
    bad = [{"line": line, "reason": item} for line, item in parsed if isinstance(item, str)]
    if bad and not skip_invalid:
        shown = "; ".join(f"line {b['line']}: {b['reason']}" for b in bad[:MAX_REPORTED])
        more = f" (and {len(bad) - MAX_REPORTED} more)" if len(bad) > MAX_REPORTED else ""
        raise InvalidInput(
            f"{len(bad)} invalid row(s), nothing imported: {shown}{more}; "
            "pass skip_invalid=true to import the rest",
            rows=bad[:MAX_REPORTED],
        )
    if not good:
        raise InvalidInput("the file holds no items")
    return good, bad


def to_jsonl(items: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(item) + b"\n" for item in items)


def to_csv(items: list[dict[str, Any]]) -> bytes:
    """Text inputs stay text; structured inputs and outputs are written as JSON in their cell."""
    metadata_keys = sorted({key for item in items for key in item.get("metadata") or {}})
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["input", "expected", "split", *metadata_keys])

    def cell(value: Any) -> str:
        if value is None:
            return ""
        return value if isinstance(value, str) else orjson.dumps(value).decode()

    for item in items:
        meta = item.get("metadata") or {}
        writer.writerow(
            [
                cell(item["input"]),
                cell(item.get("expected")),
                item.get("split") or "",
                *(cell(meta.get(k)) for k in metadata_keys),
            ]
        )
    return out.getvalue().encode()
