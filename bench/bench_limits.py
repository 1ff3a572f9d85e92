"""reliability.md §5 row 11, measured: YAML resource-limit cases are refused, or parsed and validated, in
at most 2 s and 256 MiB each (tests/test_fuzz.py only checks that they end, with 10x margins).

    python bench/bench_limits.py [--repeat 3]

Each case runs in a fresh process (a crash of the C parser is a negative exit, not the end of the bench): the
figure is the slowest of `--repeat` runs for load and validate, and the peak RSS of the process (VmHWM).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

BAR_SECONDS = 2.0
BAR_MIB = 256
HEADER = b"kind: journey\nid: limits\nentry: {type: audience, audience: everyone, next: end}\n"

CHILD = textwrap.dedent("""
    import json, resource, sys, time
    from pathlib import Path
    from jo_cli.loader import load_yaml
    from jo_cli.validate import validate_files

    def peak_rss_mib():
        try:
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    raw = Path(sys.argv[1]).read_bytes()
    start = time.perf_counter()
    load_yaml("x.yaml", raw)
    load = time.perf_counter() - start
    root = Path(sys.argv[2])
    start = time.perf_counter()
    validate_files([root / "journeys" / "x.yaml"], cwd=root, project_root=None)
    print(json.dumps({"load": load, "validate": time.perf_counter() - start, "rss_mib": peak_rss_mib()}))
""")


def cases() -> dict[str, bytes]:
    bomb = [b"kind: journey", b"id: bomb", b"a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, 9):
        bomb.append(b"a%d: &a%d [%s]" % (level, level, b", ".join([b"*a%d" % (level - 1)] * 9)))
    flat = HEADER + b"steps: {}\ntags:\n"
    flat += b"- x\n" * ((1024 * 1024 - len(flat)) // 4)
    scalar = HEADER + b"steps: {}\ndescription: "
    return {
        "file over 1 MiB": HEADER + b"description: " + b"x" * (1024 * 1024),
        "1 MiB of list items": flat + b"#" * (1024 * 1024 - len(flat)),
        "1 MiB scalar": scalar + b"x" * (1024 * 1024 - len(scalar)),
        "flow nesting 50k": b"[" * 50_000 + b"]" * 50_000,
        "flow mapping nesting 50k": b"{a: " * 50_000 + b"x" + b"}" * 50_000,
        "block nesting 200k": b"- " * 200_000 + b"x\n",
        "unclosed nesting 200k": b"[" * 200_000,
        "alias bomb 9^9": b"\n".join(bomb) + b"\n",
        "recursive alias": b"kind: journey\nid: loop\na: &x [1, *x]\n",
    }


def measure(raw: bytes, repeat: int) -> dict[str, float]:
    worst = {"load": 0.0, "validate": 0.0, "rss_mib": 0.0}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "journeys").mkdir()
        target = root / "journeys" / "x.yaml"
        target.write_bytes(raw)
        for _ in range(repeat):
            done = subprocess.run([sys.executable, "-c", CHILD, str(target), str(root)], capture_output=True,
                                  text=True, check=False)
            if done.returncode != 0:
                sys.exit(f"the child exited {done.returncode} (negative: a signal)\n{done.stderr[-2000:]}")
            figures = json.loads(done.stdout)
            worst = {key: max(worst[key], figures[key]) for key in worst}
    return worst


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ok = True
    for name, raw in cases().items():
        figures = measure(raw, args.repeat)
        within = figures["load"] <= BAR_SECONDS and figures["validate"] <= BAR_SECONDS and \
            figures["rss_mib"] <= BAR_MIB
        ok &= within
        print(f"{name:26} load {figures['load']:.3f} s, validate {figures['validate']:.3f} s, "
              f"peak {figures['rss_mib']:.0f} MiB{'' if within else '  OUTSIDE the bars'}")
    print(f"within reliability.md §5 row 11 ({BAR_SECONDS:.0f} s, {BAR_MIB} MiB)" if ok else "OUTSIDE the bars")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
