"""Kano classification: the evaluation table, the answer words, counts, Fong's test, Better/Worse."""
import numpy as np
import pandas as pd
import pytest

from cxvalue.errors import CxValueError
from cxvalue.perception.kano import answer_code, find_kano_pairs, kano_category, kano_table


def test_evaluation_table_cells():
    # Berger et al. (1993), table 1: (functional, dysfunctional) -> category
    cases = {(1, 5): "O", (1, 2): "A", (1, 3): "A", (1, 4): "A", (1, 1): "Q", (5, 5): "Q", (2, 5): "M",
             (3, 5): "M", (4, 5): "M", (3, 3): "I", (2, 2): "I", (5, 1): "R", (3, 1): "R", (5, 3): "R"}
    got = kano_category(pd.Series([k[0] for k in cases]), pd.Series([k[1] for k in cases]))
    assert list(got) == list(cases.values())


def test_answer_words_in_both_languages():
    assert [answer_code(w) for w in ("Like", "I expect it", "neutral ", "can live with it", "dislike")] == [1, 2, 3, 4, 5]
    assert [answer_code(w) for w in ("喜欢", "理所当然", "无所谓", "能忍受", "不喜欢")] == [1, 2, 3, 4, 5]
    assert np.isnan(answer_code("maybe")) and np.isnan(answer_code(7)) and np.isnan(answer_code(None))


def test_counts_category_and_coefficients():
    # 10 answers: 4 must-be, 3 one-dimensional, 2 attractive, 1 indifferent
    f = [2] * 4 + [1] * 3 + [1] * 2 + [3]
    d = [5] * 4 + [5] * 3 + [3] * 2 + [3]
    df = pd.DataFrame({"kano_seat_functional": f, "kano_seat_dysfunctional": d})
    k = kano_table(df, min_n=5).iloc[0]
    assert (k["M"], k["O"], k["A"], k["I"], k["n"]) == (4, 3, 2, 1, 10) and k["category"] == "M"
    assert k["better"] == pytest.approx(5 / 10) and k["worse"] == pytest.approx(-7 / 10)
    # Fong: |4 - 3| > 1.65 sqrt(7 * 13 / 20)? 1 > 3.52: no
    assert not k["significant"]
    big = pd.DataFrame({"kano_seat_functional": f * 30, "kano_seat_dysfunctional": d * 30})
    assert kano_table(big).iloc[0]["significant"]        # 120 vs 90 of 300: 30 > 1.65 sqrt(210 * 390 / 600) = 19.3
    clear = pd.DataFrame({"kano_seat_functional": [2] * 80 + [1] * 20, "kano_seat_dysfunctional": [5] * 100})
    assert kano_table(clear).iloc[0]["significant"]


def test_pairs_and_errors():
    assert find_kano_pairs(["kano_wifi_functional", "kano_wifi_dysfunctional", "kano_x_f", "other"]) == {
        "wifi": ("kano_wifi_functional", "kano_wifi_dysfunctional")}
    with pytest.raises(CxValueError, match="no Kano question pairs"):
        kano_table(pd.DataFrame({"nps": [1]}))
    bad = pd.DataFrame({"kano_a_functional": [1, "sometimes"], "kano_a_dysfunctional": [5, 5]})
    with pytest.raises(CxValueError, match="row 2 .*'sometimes'"):
        kano_table(bad)
    with pytest.raises(CxValueError, match="column 'nope'"):
        kano_table(pd.DataFrame({"a": [1]}), {"x": ("a", "nope")})


def test_kano_from_the_cli_and_the_store(tmp_path):
    import json
    from typer.testing import CliRunner
    from cxvalue.interfaces.cli.main import app
    rng = np.random.default_rng(0)
    n = 120
    df = pd.DataFrame({"response_id": [f"r{i}" for i in range(n)], "customer_id": [f"c{i}" for i in range(n)],
                       "date": "2024-05-01", "nps": rng.integers(0, 11, n),
                       "kano_wifi_functional": rng.choice([1, 1, 1, 3], n), "kano_wifi_dysfunctional": 3,
                       "kano_seat_functional": 2, "kano_seat_dysfunctional": rng.choice([5, 5, 5, 4], n)})
    f = tmp_path / "responses.csv"
    df.to_csv(f, index=False)
    res = CliRunner().invoke(app, ["kano", str(f), "--json"])
    assert res.exit_code == 0, res.output
    rows = next(b for b in json.loads(res.output)["blocks"] if b["id"] == "kano-table")["rows"]
    assert {r["feature"]: r["category"] for r in rows} == {"seat": "M", "wifi": "A"}
    store = tmp_path / "s.duckdb"
    assert CliRunner().invoke(app, ["load", "responses", str(f), "--store", str(store)]).exit_code == 0
    res = CliRunner().invoke(app, ["run", "--only", "kano", "--store", str(store)])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(app, ["kano", "--store", str(store), "--pairs", "wifi=kano_wifi_functional,kano_wifi_dysfunctional",
                                   "--json"])
    rows = next(b for b in json.loads(res.output)["blocks"] if b["id"] == "kano-table")["rows"]
    assert [r["feature"] for r in rows] == ["wifi"]
