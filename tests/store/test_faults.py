"""Store faults (issue 16, items 10 and 11): a damaged store file, a full disk, a write-ahead
log DuckDB cannot replay, a store that is not there."""
from __future__ import annotations

import json
import random
import shutil
import warnings
from collections import namedtuple
from pathlib import Path

import duckdb
import pytest

from cli_runner import cx
from cxvalue.errors import LoadAborted, StoreError, StoreWarning
from cxvalue.io import load as load_mod
from cxvalue.io.load import load_file
from cxvalue.store import check_integrity, connect, engine_fault, ensure_room, reclaim_space, room_for_load

ROWS = 200_000


def _csv(path: Path, rows: int = ROWS, first_order: int = 0) -> Path:
    """A transactions file of ``rows`` rows (deterministic: no random values)."""
    con = duckdb.connect()
    con.execute(f"""COPY (SELECT 'C' || (i % 20000) AS customer_id,
                                 TIMESTAMP '2022-01-01' + to_seconds((i * 37) % 60000000) AS date,
                                 ((i * 7919) % 100000) / 100.0 AS amount,
                                 'O' || (i + {first_order}) AS order_id,
                                 ['web', 'shop', 'app'][1 + i % 3] AS channel
                          FROM range({rows}) t(i)) TO '{path}' (HEADER)""")
    con.close()
    return path


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """A store holding 200,000 transactions (and their stub customers), closed (checkpointed)."""
    folder = tmp_path_factory.mktemp("faults")
    store = folder / "pristine.duckdb"
    con = connect(store)
    load_file(con, "transactions", _csv(folder / "transactions.csv"))
    con.disconnect()
    assert not Path(str(store) + ".wal").exists()
    return store


@pytest.fixture
def store(pristine, tmp_path):
    own = tmp_path / "cxvalue.duckdb"
    shutil.copy(pristine, own)
    return own


def _damage(path: Path, table: str = "transactions", column: str = "customer_id") -> int:
    """Write 64 KB of random bytes (fixed seed) into a data block of ``table.column`` that no other
    table uses; returns the file offset."""
    con = duckdb.connect(str(path), read_only=True)
    block_size = con.execute("SELECT block_size FROM pragma_database_size()").fetchone()[0]
    mine = {r[0] for r in con.execute(f"SELECT block_id FROM pragma_storage_info('{table}') "
                                      f"WHERE column_name = '{column}' AND block_id >= 0").fetchall()}
    others = set()
    for (t,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE table_name <> ?", [table]).fetchall():
        others |= {r[0] for r in con.execute(f"SELECT block_id FROM pragma_storage_info('{t}') "
                                             "WHERE block_id >= 0").fetchall()}
    con.close()
    blocks = sorted(mine - others)
    assert blocks, f"{table}.{column} has no block of its own"
    offset = 3 * 4096 + blocks[len(blocks) // 2] * block_size + block_size // 4   # 3 header blocks of 4 KiB
    data = bytearray(path.read_bytes())
    assert offset + 65536 < len(data)
    data[offset:offset + 65536] = random.Random(0).randbytes(65536)
    path.write_bytes(bytes(data))
    return offset


def _one_line(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    assert len(lines) == 1, text
    return lines[0]


# --------------------------------------------------------------------------- a damaged store
def test_check_healthy_store_exits_0(store):
    r = cx("check", "--store", store)
    assert r.returncode == 0, r.stderr
    for name in ("transactions", "customers", "load_log", "quarantine"):
        assert name in r.stdout
    assert "damaged" not in r.stdout and r.stderr == ""
    r = cx("check", "--store", store, "--json")
    out = json.loads(r.stdout)
    assert r.returncode == 0 and out["ok"] and out["damaged"] == []
    assert {t["table"]: t["rows"] for t in out["tables"]}["transactions"] == ROWS


def test_damaged_store_check_names_the_table_and_exits_1(store):
    _damage(store)
    r = cx("check", "--store", store, "--json")
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert out["damaged"] == ["transactions"]
    bad = next(t for t in out["tables"] if t["table"] == "transactions")
    assert "Corrupt database file" in bad["error"] and bad["rows"] == ROWS   # the count comes from metadata
    err = _one_line(r.stderr)
    assert err.startswith("error: the store") and "transactions" in err and "backup" in err
    r = cx("check", "--store", store)
    assert r.returncode == 1 and "damaged" in r.stdout
    assert check_integrity(connect(store, read_only=True))[-1]["ok"] is False


@pytest.mark.parametrize("command", [["status"], ["report", "--out", "{tmp}/report.html"], ["quarantine"]])
def test_damaged_store_every_command_prints_one_line(store, tmp_path, command):
    _damage(store)
    args = [a.replace("{tmp}", str(tmp_path)) for a in command]
    r = cx(*args, "--store", store)
    if command == ["quarantine"]:       # reads no damaged block: works
        assert r.returncode == 0, r.stderr
        return
    assert r.returncode == 1
    err = _one_line(r.stderr)
    assert err.startswith("error: the store") and "is damaged (IO Error: Corrupt database file" in err
    assert "cxvalue check" in err and "Traceback" not in r.stderr + r.stdout


def test_not_a_database_is_one_line(tmp_path):
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(random.Random(3).randbytes(300_000))
    for cmd in ("status", "check"):
        r = cx(cmd, "--store", junk)
        assert r.returncode == 1
        assert "is not a DuckDB database" in _one_line(r.stderr)


def test_damaged_catalogue_is_one_line_at_open(store):
    data = bytearray(store.read_bytes())
    con = duckdb.connect(str(store), read_only=True)
    meta = con.execute("SELECT block_id FROM pragma_metadata_info()").fetchall()
    block_size = con.execute("SELECT block_size FROM pragma_database_size()").fetchone()[0]
    con.close()
    offset = 3 * 4096 + meta[0][0] * block_size
    data[offset:offset + 65536] = random.Random(0).randbytes(65536)
    store.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="is damaged and cannot be opened"):
        connect(store)
    r = cx("check", "--store", store)
    assert r.returncode == 1 and "damaged and cannot be opened" in _one_line(r.stderr)


def test_engine_fault_messages():
    assert "disk of the store" in engine_fault(duckdb.IOException(
        'IO Error: Could not write file "x.duckdb": No space left on device'))
    wrapped = RuntimeError("step failed")
    wrapped.__cause__ = duckdb.IOException("IO Error: Corrupt database file: computed checksum 1 does not match "
                                           "stored checksum 2 in block at location 3")
    assert "is damaged" in engine_fault(wrapped)
    assert engine_fault(duckdb.BinderException("Binder Error: column x not found")) is None
    assert engine_fault(ValueError("no")) is None


# --------------------------------------------------------------------------- the write-ahead log
def test_garbage_wal_beside_a_good_store_warns(store):
    wal = Path(str(store) + ".wal")
    wal.write_bytes(random.Random(1).randbytes(65536))
    with pytest.warns(StoreWarning, match="could not be replayed"):
        connect(store, read_only=True).disconnect()
    r = cx("status", "--store", store)
    assert r.returncode == 0, r.stderr
    assert "warning (StoreWarning)" in _one_line(r.stderr) and wal.name in r.stderr


def _leave_a_wal(store) -> Path:
    """Add 1,000 customers and close without a checkpoint: the change stays in the store's .wal."""
    con = duckdb.connect(str(store))
    con.execute("PRAGMA disable_checkpoint_on_shutdown")
    con.execute("INSERT INTO customers (customer_id, name) SELECT 'N' || i, 'new' FROM range(1000) t(i)")
    con.close()
    return Path(str(store) + ".wal")


def test_wal_with_garbage_after_good_entries_warns_partly(store):
    _leave_a_wal(store)
    wal = Path(str(store) + ".wal")
    wal.write_bytes(wal.read_bytes() + random.Random(2).randbytes(5000))
    with pytest.warns(StoreWarning, match="in full"):
        c = connect(store, read_only=True)
    assert c.table("customers").filter(c.table("customers").name == "new").count().execute() == 1000
    c.disconnect()


def test_a_replayed_wal_does_not_warn(store):
    _leave_a_wal(store)
    assert Path(str(store) + ".wal").stat().st_size > 0
    for read_only in (True, False):
        with warnings.catch_warnings():
            warnings.simplefilter("error", StoreWarning)
            c = connect(store, read_only=read_only)
        assert c.table("customers").count().execute() == 21000
        c.disconnect()


def test_a_wal_failing_its_checksum_stops_the_opening_in_one_line(store):
    _leave_a_wal(store)
    wal = Path(str(store) + ".wal")
    data = bytearray(wal.read_bytes())
    data[len(data) // 2] ^= 0xFF
    wal.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="write-ahead log .* is damaged .*Corrupt WAL file.*move"):
        connect(store)
    r = cx("status", "--store", store)
    assert r.returncode == 1 and "write-ahead log" in _one_line(r.stderr)


# --------------------------------------------------------------------------- disk space
Usage = namedtuple("Usage", "total used free")


def test_load_refused_when_the_disk_is_clearly_too_small(store, tmp_path, monkeypatch):
    src = _csv(tmp_path / "more.csv", first_order=10_000_000)
    need = room_for_load(src)
    assert need > src.stat().st_size * 0.2
    monkeypatch.setattr(shutil, "disk_usage", lambda p: Usage(10 << 30, (10 << 30) - (1 << 20), 1 << 20))
    r = cx("load", "transactions", src, "--store", store)
    assert r.returncode == 1
    err = _one_line(r.stderr)
    assert "not enough disk space for loading more.csv into transactions" in err
    assert "1.0 MiB is free" in err and "needs at least" in err
    c = connect(store)
    assert c.table("transactions").count().execute() == ROWS      # nothing was loaded
    c.disconnect()
    monkeypatch.setattr(shutil, "disk_usage", lambda p: Usage(10 << 30, 0, 10 << 30))
    r = cx("load", "transactions", src, "--store", store)
    assert r.returncode == 0, r.stderr


def test_ensure_room_counts_and_skips(store, monkeypatch):
    con = connect(store)
    monkeypatch.setattr(shutil, "disk_usage", lambda p: Usage(1 << 40, 0, 100 << 20))
    assert ensure_room(con, 50 << 20, "x") >= 100 << 20
    with pytest.raises(StoreError, match="not enough disk space for x: it needs at least 200.0 MiB"):
        ensure_room(con, 200 << 20, "x")
    assert ensure_room(connect("duckdb://"), 1 << 50, "x") == -1      # in memory: not checked
    con.disconnect()


def _failed_load(con, src, monkeypatch):
    def boom(step):
        if step == "inserted":
            raise duckdb.IOException('IO Error: Could not write file "x": No space left on device (injected)')
    monkeypatch.setattr(load_mod, "_fail_point", boom)
    with pytest.raises(LoadAborted, match="rolled back"):
        load_file(con, "transactions", src)
    monkeypatch.setattr(load_mod, "_fail_point", lambda step: None)


def test_rolled_back_load_gives_its_space_back(store, tmp_path, monkeypatch):
    src = _csv(tmp_path / "more.csv", first_order=10_000_000)
    con = connect(store)
    block = con.con.execute("SELECT block_size FROM pragma_database_size()").fetchone()[0]
    checkpointing = ("SELECT name, value FROM duckdb_settings() WHERE name IN "
                     "('checkpoint_threshold', 'auto_checkpoint_skip_wal_threshold')")
    settings = dict(con.con.execute(checkpointing).fetchall())
    size0 = store.stat().st_size
    # without the reclaim the rolled-back blocks stay in the file
    monkeypatch.setattr(load_mod, "reclaim_space", lambda duck: 0)
    _failed_load(con, src, monkeypatch)
    kept = store.stat().st_size - size0
    assert kept > 4 * block
    monkeypatch.setattr(load_mod, "reclaim_space", reclaim_space)
    assert reclaim_space(con.con) >= kept - 2 * block        # the free tail is cut off the file
    assert store.stat().st_size <= size0 + 2 * block
    # with it (in _rollback) the file does not keep the space, and a later load succeeds
    for _ in range(2):
        _failed_load(con, src, monkeypatch)
        assert store.stat().st_size <= size0 + 2 * block
    assert con.table("transactions").count().execute() == ROWS
    rep = load_file(con, "transactions", src)
    assert rep.rows_loaded == ROWS and con.table("transactions").count().execute() == 2 * ROWS
    assert dict(con.con.execute(checkpointing).fetchall()) == settings      # restored after each reclaim
    assert "__cxvalue_reclaim" not in con.list_tables()
    con.disconnect()
    ro = connect(store, read_only=True)
    assert all(t["ok"] for t in check_integrity(ro))
    ro.disconnect()


def test_reclaim_space_is_a_no_op_without_free_blocks(store):
    con = connect(store)
    assert reclaim_space(con.con) == 0
    assert reclaim_space(connect("duckdb://").con) == 0
    con.disconnect()


# --------------------------------------------------------------------------- a missing store
def test_reading_commands_create_no_store(tmp_path):
    missing = tmp_path / "some" / "missing" / "folder" / "x.duckdb"
    for args in (["status"], ["check"], ["quarantine"], ["report", "--out", tmp_path / "r.html"], ["user", "list"]):
        r = cx(*args, "--store", missing)
        assert r.returncode == 1, args
        err = _one_line(r.stderr)
        assert f"error: no store at '{missing}'" in err and "cxvalue load TABLE FILE" in err, err
    assert not (tmp_path / "some").exists()
    with pytest.raises(StoreError, match="no store at"):
        connect(missing, create=False)
    assert not (tmp_path / "some").exists()


def test_load_creates_the_store(tmp_path):
    src = _csv(tmp_path / "t.csv", rows=10)
    store = tmp_path / "new" / "folder" / "x.duckdb"
    r = cx("load", "transactions", src, "--store", store)
    assert r.returncode == 0, r.stderr
    assert store.exists()
    assert cx("status", "--store", store).returncode == 0
