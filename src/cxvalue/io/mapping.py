"""Mapping files: a user's column names, value codes, reader options and rating scales.

Example (YAML)::

    table: transactions            # optional: the table this file is for
    columns:                       # source header -> contract column
      会员号: customer_id
      交易日期: date
      消费金额: amount
    values:                        # contract column -> {source code: value}
      is_return: {Y: true, N: false}
      channel: {1: app, 2: web}
    options:                       # reader options, as the CLI flags
      encoding: gbk
      delimiter: ";"
      decimal: ","
      date_format: "%d/%m/%Y"
      na_values: ["", "NA", "-"]
    scales:                        # declared scale of rating columns (column or prefix*)
      satisfaction: [1, 5]
      "experience_*": [1, 10]
    drop: [internal_note]          # source columns deliberately not loaded
    derive:                        # contract column -> expression over the source columns
      amount: "Quantity * UnitPrice"   # (see cxvalue.io.derive)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import CxValueError

KEYS = ("table", "columns", "values", "options", "scales", "drop", "derive")


@dataclass
class Mapping:
    table: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    scales: dict[str, tuple[float, float]] = field(default_factory=dict)
    drop: list[str] = field(default_factory=list)
    derive: dict[str, str] = field(default_factory=dict)
    path: str | None = None

    def scale_for(self, column: str, default):
        if column in self.scales:
            return self.scales[column]
        for pattern, scale in self.scales.items():
            if pattern.endswith("*") and column.startswith(pattern[:-1]):
                return scale
        return default


def read_yaml_file(path: str | Path, what: str, expected: str) -> dict:
    """A YAML file that must hold a mapping (mapping files, playbooks, lifecycle rules), with
    errors that name the file: missing, not YAML, or not a mapping (``expected`` says of what)."""
    path = Path(path)
    if not path.exists():
        raise CxValueError(f"{what} {str(path)!r} not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise CxValueError(f"{what} {path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise CxValueError(f"{what} {path}: expected a mapping with {expected}, got {type(data).__name__}")
    return data


def load_mapping(path: str | Path | None) -> Mapping:
    if path is None:
        return Mapping()
    path = Path(path)
    data = read_yaml_file(path, "mapping file", f"keys {', '.join(KEYS)}")
    unknown = set(data) - set(KEYS)
    if unknown:
        raise CxValueError(f"mapping file {path}: unknown key(s) {sorted(unknown)}; expected {', '.join(KEYS)}")
    for key in ("columns", "values", "options", "scales", "derive"):
        if key in data and not isinstance(data[key], dict):
            raise CxValueError(f"mapping file {path}: '{key}' must be a mapping, got {type(data[key]).__name__}")
    scales = {}
    for col, sc in (data.get("scales") or {}).items():
        if not (isinstance(sc, (list, tuple)) and len(sc) == 2 and all(isinstance(v, (int, float)) for v in sc)
                and sc[0] < sc[1]):
            raise CxValueError(f"mapping file {path}: scale of {col!r} must be [min, max] with min < max, got {sc!r}")
        scales[str(col)] = (float(sc[0]), float(sc[1]))
    values = {}
    for col, codes in (data.get("values") or {}).items():
        if not isinstance(codes, dict):
            raise CxValueError(f"mapping file {path}: values of {col!r} must map codes to values")
        values[str(col)] = {str(k): v for k, v in codes.items()}
    return Mapping(table=data.get("table"), columns={str(k): str(v) for k, v in (data.get("columns") or {}).items()},
                   values=values, options=dict(data.get("options") or {}), scales=scales,
                   drop=[str(c) for c in data.get("drop") or []],
                   derive={str(k): str(v) for k, v in (data.get("derive") or {}).items()}, path=str(path))
