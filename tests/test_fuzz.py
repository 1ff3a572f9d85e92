"""Fuzzing the YAML loader and `jo validate` (SPEC §10.2, §11; reference/reliability.md §5 rows 10-12).

Properties: on any input, `load_yaml`, `validate_files` and `jo validate` never
raise, never hang, and every failure is a
located finding (or exit 2). Seeds are the valid schema examples and the demo
project at the repository root, read at test time; hypothesis mutates them
byte by byte and with YAML's dangerous constructs (anchors, aliases, tags,
tabs, NUL, `---`, deep flow runs, complex keys).

`JO_FUZZ_SCALE=10 pytest tests/test_fuzz.py` multiplies every example count
(a longer local or nightly run). By default: 7,000 loader examples, 5,500
through `validate_files` and 500 through the CLI, in about 20 s on 2 cores.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from jo_cli.cli.app import run
from jo_cli.loader import LoadResult, load_yaml
from jo_cli.validate import validate_files

REPO = Path(__file__).resolve().parents[1]
# Only a hang fails a test here: ten times reliability.md §5's 1 s per example (row 10) and 2 s per resource-limit
# case (row 11), so that a loaded 2-core machine never fails them. Those figures are measured, with the peak
# memory, by bench/bench_limits.py (SPEC §11: speed belongs to bench/, never to timed unit tests).
HANG_LIMIT = 10.0  # seconds per example
LIMIT_CASE_SECONDS = 20.0  # seconds per resource-limit case, to load and to validate
LIMIT_CASE_MIB = 1024  # a refused bomb stays far below; one that got through would take gigabytes
LOADER_CODE = re.compile(r"JO1\d\d\Z")
ANY_CODE = re.compile(r"JO[1-7]\d\d\Z")
T = TypeVar("T")
SCALE = float(os.environ.get("JO_FUZZ_SCALE", "1") or "1")

FALLBACK_SEED = b"""\
kind: journey
id: welcome
name: Welcome
entry: {type: audience, audience: everyone, next: hello}
steps:
  hello:
    type: wait
    duration: P1D
    next: end
"""


def _event(label: str) -> None:
    """Outcome counts for `pytest --hypothesis-show-statistics`; checks also run outside hypothesis."""
    if currently_in_test_context():
        event(label)


def _n(base: int) -> int:
    return max(1, int(base * SCALE))


def _settings(examples: int) -> settings:
    return settings(
        max_examples=_n(examples),
        deadline=None,  # asserted explicitly, so a slow machine reports the example and its time
        database=None,
        derandomize=False,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
            # Only the autouse `_hermetic` env fixture: it needs no reset between examples.
            HealthCheck.function_scoped_fixture,
        ],
    )


# --- seeds -------------------------------------------------------------------------------------


@cache
def _seeds() -> tuple[bytes, ...]:
    """Valid schema examples and the demo project, as they are on disk when the tests run."""
    patterns = [
        "tests/fixtures/schema-examples/valid/*.yaml",
        "tests/fixtures/schema-examples/valid/*.yml",
        "tests/fixtures/fuzz-seeds/*.yaml",
        "jo.yaml",
        "jo.yml",
        *(f"{folder}/**/*.{ext}" for folder in ("journeys", "campaigns", "audiences", "events")
          for ext in ("yaml", "yml")),
    ]
    found: set[Path] = set()
    for pattern in patterns:
        found.update(p for p in REPO.glob(pattern) if p.is_file())
    seeds = tuple(p.read_bytes() for p in sorted(found))
    return seeds or (FALLBACK_SEED,)


@cache
def _journey_seeds() -> tuple[bytes, ...]:
    journeys = tuple(s for s in _seeds() if re.search(rb"^kind:\s*journey\b", s, re.MULTILINE))
    return journeys or (FALLBACK_SEED,)


# --- strategies --------------------------------------------------------------------------------

# Fragments YAML parsers and jo's composer handle specially.
TOKENS: tuple[bytes, ...] = (
    b"&a ", b"*a", b"&a [*a]", b"<<: *a\n", b"!!tag ", b"!!str ", b"!!binary ", b"!!set ", b"!!timestamp ",
    b"!!python/object/apply:os.system ", b"!include ", b"! ", b"!<tag:yaml.org,2002:int> ", b"!e!x ",
    b"%YAML 1.1\n", b"%TAG !e! tag:example.com,2000:\n", b"\t", b"\x00", b"\\0", b"\"\\0\"", b"\"\\x00\"",
    b"---\n", b"\n---\n", b"...\n", b"? ", b"? [a, b]\n: c\n", b"? {a: b}\n: c\n", b"- ", b": ", b":", b"{",
    b"}", b"[", b"]", b",", b"\"", b"'", b"|", b"|-\n", b">", b"#", b" #", b"\r", b"\r\n", b"\n", b"  ",
    b"\xc2\x85", b"\xe2\x80\xa8", b"\xe2\x80\xa9", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xff",
    b"\xc3", b"\xed\xa0\x80", b"\x7f", b"\x1b", b"\xef\xbf\xbe", b"no", b"on", b"NO", b"12:30", b"0o17", b"0x1F",
    b"0777", b"1e3", b".inf", b"-.Inf", b".nan", b"~", b"null", b"2024-01-01", b"1_000", b"kind: journey\n",
    b"kind: campaign\n", b"kind: project\n", b"steps:\n", b"next: ", b"type: ", b"id: ", b"@", b"`", b"%",
    b"\"\\u0000\"", b"\"\\ud800\"", b"\"\\U0010FFFF\"", b"\"\\N\"", b"\"\\L\"", b"\"\\_\"",
    b"99999999999999999999999999999999999", b"-0", b"+.5", b"1.", b"0b101",
    # Past Python's 4,300-digit limit for int <-> str conversion (decimal when read, hex/octal when shown).
    b"9" * 4301, b"0x" + b"f" * 3600, b"0o" + b"7" * 4800,
)


def _deep(draw: st.DrawFn) -> bytes:
    # Past Python's recursion limit too: only the loader's depth limit keeps this from a RecursionError.
    depth = draw(st.one_of(st.integers(min_value=1, max_value=100), st.integers(min_value=100, max_value=3000)))
    unit = draw(st.sampled_from([b"[", b"{a: ", b"- ", b"{", b"[a, ", b"? ", b"&a [", b"!!seq [", b"\n" + b" "]))
    closing = draw(st.booleans())
    body = unit * depth
    if closing and unit.startswith((b"[", b"&a [", b"!!seq [")):
        body += b"]" * depth
    elif closing and unit.startswith(b"{"):
        body += b"x" + b"}" * depth
    return body


SCALARS: tuple[bytes, ...] = (
    b"", b"~", b"null", b"true", b"no", b"0", b"-1", b"1.5", b"1e400", b".nan", b"[]", b"{}", b"[a, b]",
    b"{a: 1}", b"x", b"end", b"everyone", b"P1D", b"PT0S", b"P-1D", b"12:30", b"25:99", b"2024-02-30",
    b"\"\"", b"'  '", b"a b c", b"profile.x >", b"{{ profile.", b"audience", b"wait", b"condition",
    b"message", b"*a", b"&a x", b"!!int 3", b"|\n  text", b"\"\\u00e9\"", b"\"\\0\"", b"Caf\xc3\xa9",
    b"x" * 300, b"-", b"- a", b"? a", b"9" * 4301, b"0x" + b"f" * 3600,
)
# Mostly printable ASCII: a random byte from 0-255 makes most files non-UTF-8 (JO103) and stops there.
_TEXT_BYTES = st.one_of(
    st.binary(min_size=1, max_size=4),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=4).map(str.encode),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=4).map(str.encode),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=4).map(str.encode),
)
_OPS = ("insert", "delete", "replace", "token", "token", "dup_line", "swap_lines", "delete_line", "value",
        "value", "value", "key", "deep", "indent", "dedent", "truncate", "repeat")


def _mutate_once(draw: st.DrawFn, raw: bytes) -> bytes:
    op = draw(st.sampled_from(_OPS))
    pos = draw(st.integers(min_value=0, max_value=len(raw)))
    if op == "insert":
        return raw[:pos] + draw(_TEXT_BYTES) + raw[pos:]
    if op == "delete":
        return raw[:pos] + raw[pos + draw(st.integers(min_value=1, max_value=8)):]
    if op == "replace":
        return raw[:pos] + draw(_TEXT_BYTES)[:1] + raw[pos + 1:]
    if op == "token":
        return raw[:pos] + draw(st.sampled_from(TOKENS)) + raw[pos:]
    if op == "deep":
        return raw[:pos] + _deep(draw) + raw[pos:]
    if op == "truncate":
        return raw[:pos]
    if op == "repeat":
        chunk = raw[pos:pos + draw(st.integers(min_value=1, max_value=40))]
        return raw[:pos] + chunk * draw(st.integers(min_value=1, max_value=50)) + raw[pos:]
    lines = raw.split(b"\n")
    i = draw(st.integers(min_value=0, max_value=len(lines) - 1))
    j = draw(st.integers(min_value=0, max_value=len(lines) - 1))
    line = lines[i]
    if op == "dup_line":
        lines.insert(j, line)
    elif op == "swap_lines":
        lines[i], lines[j] = lines[j], lines[i]
    elif op == "delete_line":
        del lines[i]
    elif op == "indent":
        lines[i] = draw(st.sampled_from([b" ", b"  ", b"    ", b"\t", b" \t"])) + line
    elif op == "dedent":
        lines[i] = line[draw(st.integers(min_value=1, max_value=4)):]
    elif op == "value" and b": " in line:
        lines[i] = line[:line.index(b": ") + 2] + draw(st.sampled_from(SCALARS))
    elif op == "value":
        lines[i] = line + b": " + draw(st.sampled_from(SCALARS))
    elif op == "key":
        stripped = line.lstrip(b" -")
        name = draw(st.sampled_from([b"bogus", b"kind", b"id", b"next", b"type", b"steps", b"entry", b"on",
                                     b"no", b"200", b"2024-01-01", b"\"quoted key\"", b"? complex", b"[k]"]))
        head = line[:len(line) - len(stripped)]
        lines[i] = head + name + (stripped[stripped.index(b":"):] if b":" in stripped else b": x")
    return b"\n".join(lines)


@st.composite
def _mutated(draw: st.DrawFn, pool: st.SearchStrategy[bytes]) -> bytes:
    """A seed with 1-4 byte-level, line-level or value-level mutations."""
    raw = draw(pool)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        raw = _mutate_once(draw, raw)
    return raw


seeds = st.deferred(lambda: st.sampled_from(_seeds()))
journey_seeds = st.deferred(lambda: st.sampled_from(_journey_seeds()))
mutated_seeds = _mutated(seeds)
mutated_journeys = st.one_of(_mutated(journey_seeds), _mutated(seeds))
token_soup = st.lists(
    st.one_of(st.sampled_from(TOKENS), st.text(max_size=6).map(lambda s: s.encode("utf-8")),
              st.sampled_from([b"a", b"b", b"k: v\n", b"- x\n", b"  ", b"\n"])),
    max_size=60,
).map(b"".join)
random_yaml_text = st.one_of(
    st.text(max_size=400),
    st.text(alphabet=st.sampled_from(list("ab:-[]{}?,&*!|>'\"#% \t\n\r\x00\x85\u2028~.0123456789")),
            max_size=300),
)


# --- checks ------------------------------------------------------------------------------------


def _line_count(raw: bytes) -> int:
    """An upper bound for any line number in `raw` (YAML and str.splitlines share line breaks)."""
    text = raw.decode("utf-8", errors="replace")
    return max(len(text.splitlines()), raw.count(b"\n") + 1) + 1


def _max_col(raw: bytes, line: int) -> int:
    """An upper bound for a column on `line`: its length in bytes (>= characters), plus one."""
    lines = raw.decode("utf-8", errors="replace").splitlines()
    by_newline = raw.split(b"\n")
    longest = max(len(lines[line - 1].encode()) if line <= len(lines) else 0,
                  len(by_newline[line - 1]) if line <= len(by_newline) else 0)
    return longest + 1


def _assert_plain(value: Any, depth: int = 0) -> None:
    """Only JSON's types: dict with str keys, list, str, int, float, bool, None."""
    assert depth < 200, "data nested deeper than the loader's limit"
    if isinstance(value, dict):
        for key, item in value.items():
            assert type(key) is str, f"non-string key {key!r} ({type(key).__name__})"
            _assert_plain(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _assert_plain(item, depth + 1)
    else:
        assert value is None or type(value) in (str, int, float, bool), f"{type(value).__name__}: {value!r}"


def _check_finding(finding: Any, raw: bytes, path: str, code: re.Pattern[str]) -> None:
    where = f"{finding.path}:{finding.line}:{finding.col}: {finding.code} {finding.message!r}"
    assert finding.path == path, where
    assert isinstance(finding.line, int) and finding.line >= 1, where
    assert isinstance(finding.col, int) and finding.col >= 1, where
    assert finding.line <= _line_count(raw), f"line past the end of the file ({_line_count(raw)}): {where}"
    assert finding.col <= _max_col(raw, finding.line), f"column past the end of its line: {where}"
    if finding.end_line is not None:
        assert (finding.end_line, finding.end_col or 1) >= (finding.line, finding.col), f"end before start: {where}"
    assert code.match(finding.code), where
    assert finding.severity in ("error", "warning"), where
    assert isinstance(finding.message, str) and finding.message.strip(), where


def _timed(work: Callable[[], T], what: str) -> T:
    """`work()`, asserting it did not hang (HANG_LIMIT; how fast it is, is bench/'s business)."""
    start = time.perf_counter()
    result = work()
    elapsed = time.perf_counter() - start
    assert elapsed < HANG_LIMIT, f"{what} took {elapsed:.2f} s: a hang"
    return result


def _check_load(raw: bytes) -> LoadResult:
    result = _timed(lambda: load_yaml("fuzz.yaml", raw), f"load_yaml on {len(raw)} bytes")
    for finding in result.findings:
        _check_finding(finding, raw, "fuzz.yaml", LOADER_CODE)
    _event("codes: " + (" ".join(sorted({f.code for f in result.findings})) or "none"))
    if result.document is None:
        assert result.findings, "no document and no finding: a failure must be a located finding"
    else:
        _assert_plain(result.document.data)
        json.dumps(result.document.data, allow_nan=True)
        for span in result.document.positions.values():
            assert span.line >= 1 and span.col >= 1
    return result


# --- property 1: the loader --------------------------------------------------------------------


@_settings(1000)
@given(raw=st.binary(max_size=600))
def test_loader_random_bytes(raw: bytes) -> None:
    _check_load(raw)


@_settings(2000)
@given(text=st.one_of(random_yaml_text, token_soup.map(lambda b: b.decode("utf-8", "replace"))))
def test_loader_random_text(text: str) -> None:
    _check_load(text.encode("utf-8", errors="surrogatepass"))


@_settings(4000)
@given(raw=st.one_of(mutated_seeds, token_soup))
def test_loader_mutated_seeds(raw: bytes) -> None:
    _check_load(raw)


def test_seeds_load_cleanly() -> None:
    """The seeds themselves are valid: mutations start from files that parse."""
    for raw in _seeds():
        result = load_yaml("seed.yaml", raw)
        assert result.document is not None and not result.findings, result.findings


# --- property 2: validate_files on journeys/x.yaml ---------------------------------------------


def _check_validate(tmp: Path, raw: bytes, where: str = "journeys/x.yaml") -> None:
    target = tmp / where
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(raw)
    validation = _timed(lambda: validate_files([target], cwd=tmp, project_root=None),
                        f"validate_files on {len(raw)} bytes")
    result = validation.result()
    _event("families: " + (" ".join(sorted({f.code[:3] for f in result.findings})) or "none"))
    for finding in result.findings:
        _check_finding(finding, raw, where, ANY_CODE)
    assert validation.checked + validation.skipped == 1


@_settings(3000)
@given(raw=mutated_journeys)
def test_validate_mutated_journeys(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as name:
        _check_validate(Path(name), raw)


# Tree mutations: parse a seed, replace, delete or add nodes with values of the wrong
# type or shape, dump it back. Unlike byte mutations these mostly parse, so they reach
# the schema checks and the rules, which must cope with documents that failed their schema.

FOLDERS = {"journey": "journeys/x.yaml", "campaign": "campaigns/x.yaml", "audience": "audiences/x.yaml",
           "event": "events/x.yaml", "project": "jo.yaml"}
STRINGS = (
    "end", "", " ", "x" * 200, "P1D", "PT0S", "P91D", "P-1D", "1 day", "12:30", "25:61", "2024-02-30",
    "2024-01-01T00:00:00Z", "* * * * *", "61 * * * *", "0 9 * * MON-FRI", "Europe/Paris", "Mars/Olympus",
    "profile.x ==", "profile.tier == \"gold\"", "exists(purchases, true)", "((((((((((", "{{ profile.x }}",
    "{% for x in y %}", "{{ ''.__class__ }}", "../../etc/passwd", "/abs/path", "templates/x.html", "a\x00b",
    "\u202e", "é", "🙂", "null", "true", "no", "NaN", "-", "$ref", "#/definitions/step", "(?P<x>a)\\1",
)


def _walk(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*path, index))


@cache
def _parsed_seeds() -> tuple[tuple[str, Any], ...]:
    parsed = []
    for raw in _seeds():
        doc = load_yaml("seed.yaml", raw).document
        if doc is not None and isinstance(doc.data, dict):
            parsed.append((FOLDERS.get(str(doc.data.get("kind")), "journeys/x.yaml"), doc.data))
    return tuple(parsed) or (("journeys/x.yaml", yaml.safe_load(FALLBACK_SEED)),)


@cache
def _seed_words() -> tuple[str, ...]:
    """Every key and string value of the seeds: step ids, step types, field names."""
    words: set[str] = set(STRINGS)
    for _, data in _parsed_seeds():
        for path in _walk(data):
            words.update(p for p in path if isinstance(p, str))
            value = _get(data, path)
            if isinstance(value, str):
                words.add(value)
    return tuple(sorted(words))


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


words = st.deferred(lambda: st.sampled_from(_seed_words()))
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=12), words),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.one_of(words, st.text(max_size=8)), inner, max_size=4)),
    max_leaves=12,
)


@st.composite
def _tree_mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    where, data = draw(st.deferred(lambda: st.sampled_from(_parsed_seeds())))
    data = copy.deepcopy(data)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(list(_walk(data))))
        if not path:
            data = draw(json_values) if draw(st.integers(0, 9)) == 0 else data
            continue
        parent, last = _get(data, path[:-1]), path[-1]
        op = draw(st.sampled_from(["replace", "replace", "delete", "add", "rename"]))
        if op == "replace":
            parent[last] = draw(json_values)
        elif op == "delete":
            del parent[last]
        elif op == "add" and isinstance(parent, dict):
            parent[draw(words)] = draw(json_values)
        elif op == "add":
            parent.insert(last, draw(json_values))
        elif op == "rename" and isinstance(parent, dict):
            parent[draw(words)] = parent.pop(last)
    style = draw(st.sampled_from(["block", "flow", "json"]))
    if style == "json":
        text = json.dumps(data, indent=draw(st.sampled_from([None, 2])), ensure_ascii=draw(st.booleans()))
    else:
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=style == "flow")
    return where, text.encode("utf-8")


@_settings(2000)
@given(case=_tree_mutated())
def test_validate_tree_mutations(case: tuple[str, bytes]) -> None:
    where, raw = case
    with tempfile.TemporaryDirectory() as name:
        _check_validate(Path(name), raw, where)


@cache
def _json_seeds() -> tuple[bytes, ...]:
    found = sorted({*REPO.glob("tests/fixtures/schema-examples/valid/*.schema.json"),
                    *REPO.glob("data/**/*.schema.json")})
    return tuple(p.read_bytes() for p in found if p.is_file()) or (b'{"type": "object", "properties": {}}\n',)


@_settings(500)
@given(raw=_mutated(st.deferred(lambda: st.sampled_from(_json_seeds()))))
def test_validate_mutated_data_schemas(raw: bytes) -> None:
    """Profile and entity schemas are JSON read through json and then the YAML loader."""
    with tempfile.TemporaryDirectory() as name:
        _check_validate(Path(name), raw, "data/x.schema.json")


# --- property 3: the CLI -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One directory for every example (hypothesis reruns the test body, not function fixtures)."""
    tmp = tmp_path_factory.mktemp("cli-fuzz")
    (tmp / "journeys").mkdir()
    return tmp


@_settings(500)
@given(raw=mutated_journeys)
def test_cli_validate_json(cli_dir: Path, raw: bytes) -> None:
    tmp = cli_dir
    (tmp / "journeys" / "x.yaml").write_bytes(raw)

    def cli() -> tuple[int, io.StringIO, io.StringIO]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.chdir(tmp), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            return run(["validate", "-o", "json", "journeys/x.yaml"]), out, err

    code, out, err = _timed(cli, f"jo validate on {len(raw)} bytes")
    assert code in (0, 1, 2), f"exit {code}; stderr: {err.getvalue()}"
    if code in (0, 1):
        report = json.loads(out.getvalue())
        for finding in report["findings"]:
            assert finding["path"] == "journeys/x.yaml"
            assert finding["line"] >= 1 and finding["column"] >= 1
            assert ANY_CODE.match(finding["code"])
        assert (report["errors"] > 0) == (code == 1)
        assert report["status"] == ("fail" if code == 1 else "pass")
    else:
        assert err.getvalue().startswith("jo: error:"), err.getvalue()


# --- resource limits (reliability.md §5 row 11) -------------------------------------------------

# Runs in a child process so that a segfault of the C parser is a negative return
# code here rather than the end of pytest; it reports findings, time and peak RSS.
_CHILD = textwrap.dedent("""
    import json, resource, sys, time
    from pathlib import Path
    from jo_cli.loader import load_yaml
    from jo_cli.validate import validate_files

    def peak_rss_mib():
        # VmHWM belongs to this process image; ru_maxrss would carry pytest's peak across fork and exec.
        try:
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    raw = Path(sys.argv[1]).read_bytes()
    start = time.perf_counter()
    loaded = load_yaml("x.yaml", raw)
    load_time = time.perf_counter() - start
    root = Path(sys.argv[2])
    start = time.perf_counter()
    validation = validate_files([root / "journeys" / "x.yaml"], cwd=root, project_root=None)
    validate_time = time.perf_counter() - start
    print(json.dumps({
        "loaded": loaded.document is not None,
        "load": [[f.code, f.line, f.col, f.message] for f in loaded.findings],
        "validate": [[f.code, f.line, f.col, f.message] for f in validation.findings],
        "load_time": load_time,
        "validate_time": validate_time,
        "rss_mib": peak_rss_mib(),
    }))
""")


def _limits(tmp_path: Path, raw: bytes) -> dict[str, Any]:
    (tmp_path / "journeys").mkdir()
    target = tmp_path / "journeys" / "x.yaml"
    target.write_bytes(raw)
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(target), str(tmp_path)],
                          capture_output=True, text=True, timeout=3 * LIMIT_CASE_SECONDS, check=False)
    assert proc.returncode == 0, f"child exited {proc.returncode} (negative: killed by a signal)\n{proc.stderr}"
    report: dict[str, Any] = json.loads(proc.stdout)
    assert report["load_time"] < LIMIT_CASE_SECONDS, report
    assert report["validate_time"] < LIMIT_CASE_SECONDS, report
    assert report["rss_mib"] < LIMIT_CASE_MIB, report
    return report


def _assert_rejected(report: dict[str, Any], code: str, line: int = 1) -> None:
    for key in ("load", "validate"):
        codes = [f[0] for f in report[key]]
        assert code in codes, f"{key}: {report[key]}"
        for _code, found_line, col, message in report[key]:
            assert found_line >= 1 and col >= 1 and message
        first = next(f for f in report[key] if f[0] == code)
        assert first[1] == line, first
    assert not report["loaded"]


HEADER = b"kind: journey\nid: limits\nentry: {type: audience, audience: everyone, next: end}\n"


def test_limit_file_over_one_mib(tmp_path: Path) -> None:
    raw = HEADER + b"description: " + b"x" * (1024 * 1024)
    _assert_rejected(_limits(tmp_path, raw), "JO106")


def test_limit_flat_file_of_one_mib_many_nodes(tmp_path: Path) -> None:
    """Exactly 1 MiB (the largest file read) of flat list items: the node limit stops it."""
    body = HEADER + b"steps: {}\ntags:\n"
    raw = body + b"- x\n" * ((1024 * 1024 - len(body)) // 4)
    raw += b"#" * (1024 * 1024 - len(raw))
    assert len(raw) == 1024 * 1024
    report = _limits(tmp_path, raw)
    _assert_rejected(report, "JO106", line=next(f for f in report["load"] if f[0] == "JO106")[1])
    assert any("nodes" in f[3] for f in report["load"])


def test_limit_flat_file_of_one_mib_one_scalar(tmp_path: Path) -> None:
    """A 1 MiB file that is within every limit parses and validates (how fast: bench/bench_limits.py)."""
    body = HEADER + b"steps: {}\ndescription: "
    raw = body + b"x" * (1024 * 1024 - len(body))
    report = _limits(tmp_path, raw)
    assert report["loaded"] and not report["load"], report


def test_limit_flow_nesting_50k(tmp_path: Path) -> None:
    raw = b"[" * 50_000 + b"]" * 50_000
    _assert_rejected(_limits(tmp_path, raw), "JO106")


def test_limit_flow_mapping_nesting_50k(tmp_path: Path) -> None:
    raw = b"{a: " * 50_000 + b"x" + b"}" * 50_000
    _assert_rejected(_limits(tmp_path, raw), "JO106")


def test_limit_block_nesting_200k(tmp_path: Path) -> None:
    raw = b"- " * 200_000 + b"x\n"
    _assert_rejected(_limits(tmp_path, raw), "JO106")


def test_limit_unclosed_nesting_200k(tmp_path: Path) -> None:
    raw = b"[" * 200_000
    _assert_rejected(_limits(tmp_path, raw), "JO106")


def test_limit_alias_bomb(tmp_path: Path) -> None:
    """Billion laughs, 9 aliases per level and 9 levels: refused at the first anchor."""
    lines = [b"kind: journey", b"id: bomb", b"a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, 9):
        refs = b", ".join([b"*a%d" % (level - 1)] * 9)
        lines.append(b"a%d: &a%d [%s]" % (level, level, refs))
    raw = b"\n".join(lines) + b"\n"
    _assert_rejected(_limits(tmp_path, raw), "JO104", line=3)


def test_limit_alias_bomb_without_anchor_first(tmp_path: Path) -> None:
    """An alias to an undefined anchor is a located error too, never a traceback."""
    raw = b"kind: journey\nid: bomb\nsteps: [*a, *a, *a]\n"
    report = _limits(tmp_path, raw)
    for key in ("load", "validate"):
        assert report[key] and all(f[1] == 3 and f[2] >= 1 for f in report[key]), report[key]


def test_limit_recursive_alias(tmp_path: Path) -> None:
    raw = b"kind: journey\nid: loop\na: &x [1, *x]\n"
    _assert_rejected(_limits(tmp_path, raw), "JO104", line=3)


@pytest.mark.parametrize("literal", ["9" * 4301, "-" + "1" * 5000, "0x" + "f" * 3600, "0o" + "7" * 4800])
def test_limit_huge_integers(tmp_path: Path, literal: str) -> None:
    """Python refuses int <-> str conversions past 4,300 decimal digits (CVE-2020-10735): never a traceback."""
    raw = f"kind: journey\nid: {literal}\nentry: {{type: audience, audience: everyone, next: end}}\n" \
          f"steps: {{}}\ntags: [{literal}]\n".encode()
    result = _check_load(raw)
    assert result.document is not None or result.findings
    _check_validate(tmp_path, raw)


def test_limit_deep_json_data_schema(tmp_path: Path) -> None:
    """A data schema is parsed by json before the YAML loader: its nesting must be limited too."""
    for raw in (b"[" * 5_000 + b"]" * 5_000, b'{"a": ' * 5_000 + b"1" + b"}" * 5_000, b'{"a": ' + b"1" * 5_000 + b"}"):
        _check_validate(tmp_path, raw, "data/x.schema.json")


def test_limit_nan_and_inf_are_plain_floats() -> None:
    result = load_yaml("x.yaml", b"a: .nan\nb: -.inf\nc: .Inf\n")
    assert result.document is not None
    data = result.document.data
    assert math.isnan(data["a"]) and data["b"] == float("-inf") and data["c"] == float("inf")
