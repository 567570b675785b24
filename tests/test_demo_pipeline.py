"""`cxvalue demo`: generate, load, analyse and report end to end (small size)."""
from __future__ import annotations

import subprocess
import sys


def test_demo_end_to_end(tmp_path):
    r = subprocess.run([sys.executable, "-m", "cxvalue", "demo", "--customers", "2000", "--seed", "5", "--data",
                        tmp_path / "data", "--store", tmp_path / "demo.duckdb", "--report", tmp_path / "report.html"],
                       capture_output=True, text=True, env={"COLUMNS": "160", "PATH": "/usr/bin:/bin", "HOME": "/tmp"})
    assert r.returncode == 0, r.stderr + r.stdout
    assert "report.html" in r.stdout.replace("\n", "")
    en = (tmp_path / "report.html").read_text(encoding="utf-8")
    zh = (tmp_path / "report.zh.html").read_text(encoding="utf-8")
    for section in ('id="overview"', 'id="load-quality"', 'id="customer-value"', 'id="value-matrix"',
                    'id="value-multiplication"'):
        assert section in en and section in zh
    assert "客户价值矩阵" in zh and "Value matrix" in en
    assert "<script src" not in en and "https://" not in en
