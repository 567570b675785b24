"""The layering and house rules of docs/architecture: checked on the source, so a change that
breaks them fails here (imports, settings, warnings, the message catalogue)."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "cxvalue"
UI_LIBS = ("typer", "rich", "jinja2", "fastapi", "uvicorn", "starlette")
CJK = re.compile(r"[\u4e00-\u9fff]")
#: modules whose Chinese strings are input tokens (column aliases, yes/no values, date formats), not UI text
INPUT_TOKENS = ("schema.py", "io/validate.py", "churn/data.py", "churn/owners.py", "datasets/", "text/tokenize.py",
                "perception/kano.py", "journeys/funnels.py")   # answer / outcome words recognised in input, not text shown


def modules():
    for p in sorted(SRC.rglob("*.py")):
        yield p.relative_to(SRC).as_posix(), ast.parse(p.read_text(encoding="utf-8"))


def imported(tree, module: str) -> set[str]:
    """Absolute names of every module ``module``'s code imports (relative imports resolved)."""
    pkg = ["cxvalue", *module.split("/")[:-1]]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg[: len(pkg) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
                out.add(name)
                out |= {f"{name}.{a.name}" for a in node.names}
            else:
                out.add(node.module)
    return out


def test_nothing_below_interfaces_imports_ui_libraries_or_the_interfaces():
    bad = []
    for mod, tree in modules():
        if mod.startswith("interfaces/") or mod == "__main__.py":  # the entry point starts the CLI
            continue
        for name in imported(tree, mod):
            if name.split(".")[0] in UI_LIBS or name.startswith("cxvalue.interfaces"):
                bad.append(f"{mod} imports {name}")
    assert not bad, bad


def test_library_code_never_resolves_settings_or_silences_warnings():
    bad = []
    for mod, tree in modules():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if name == "load_settings" and not (mod == "config.py" or mod.startswith("interfaces/")):
                bad.append(f"{mod}:{node.lineno} calls load_settings()")
            if name in ("simplefilter", "filterwarnings") and node.args and \
                    isinstance(node.args[0], ast.Constant) and node.args[0].value == "ignore":
                bad.append(f"{mod}:{node.lineno} ignores warnings")
    assert not bad, bad


def _docstrings(tree) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def test_no_chinese_text_outside_the_catalogue():
    bad = []
    for mod, tree in modules():
        if mod.startswith(INPUT_TOKENS):
            continue
        docs = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs \
                    and CJK.search(node.value):
                bad.append(f"{mod}:{node.lineno} {node.value[:40]!r}")
    assert not bad, bad


def _message_keys_used():
    """Literal keys passed to t(...), session.t(...), translate(...)."""
    keys = []
    for mod, tree in modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, str):
                f = node.func
                name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
                if name in ("t", "translate"):
                    keys.append((mod, node.lineno, node.args[0].value))
    return keys


def test_every_message_key_used_exists_in_both_languages():
    from cxvalue.i18n import LANGS, catalogue
    cat = catalogue()
    used = _message_keys_used()
    assert len(used) > 100  # the scan finds the calls
    missing = [f"{m}:{line} {k!r}" for m, line, k in used if k not in cat]
    assert not missing, missing
    assert all(set(LANGS) <= set(v) and all(str(v[lang]).strip() for lang in LANGS) for v in cat.values())


def test_catalogue_has_no_duplicate_keys():
    import yaml
    text = (SRC / "locale" / "messages.yaml").read_text(encoding="utf-8")
    keys = [ln.split(":", 1)[0] for ln in text.splitlines() if ln and not ln.startswith(("#", " "))]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    assert not dup, dup
    assert len(yaml.safe_load(text)) == len(keys)


@pytest.mark.parametrize("pattern", [r"except CxValueError:\s*\n\s*return None"])
def test_no_silent_skips_in_the_run(pattern):
    bad = [mod for mod, _ in modules() if mod.endswith("pipeline.py") and
           re.search(pattern, (SRC / mod).read_text(encoding="utf-8"))]
    assert not bad, bad


LAYER = {"errors.py": 0, "config.py": 1, "i18n.py": 1, "schema.py": 1, "timeutil.py": 1, "estimator.py": 1, "holdout.py": 1,
         "store.py": 2, "io": 3, "features": 3, "steps.py": 4, "datasets": 4}


def test_layers_point_one_way():
    """io → store → features → domains → steps → views → interfaces: the ground never imports up."""
    bad = []
    for mod, tree in modules():
        top = mod.split("/")[0]
        mine = LAYER.get(top)
        if mine is None:
            continue
        for name in imported(tree, mod):
            parts = name.split(".")
            if parts[0] != "cxvalue" or len(parts) < 2:
                continue
            target = parts[1] + ("" if parts[1] in ("io", "features", "datasets") else ".py")
            theirs = LAYER.get(target, 5)  # domains and interfaces sit above the ground
            if theirs > mine:
                bad.append(f"{mod} imports {name}")
    assert not bad, bad
