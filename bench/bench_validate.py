"""SPEC §11 start-up and validate bars, measured against floors taken in the same run.

    python bench/bench_validate.py [--files 200] [--repeat 7]

Bars: `jo --help` under 0.3 s; `jo validate` of 200 demo-sized journeys
(~60 lines each) under 1 s in one process. Each command runs in a fresh
process, as a user or pre-commit runs it; the figure is the median wall time.
Floors: `python -c pass` (interpreter start-up) and, for validate, reading
and parsing the same files with PyYAML's C loader in one process. The
validate figure is measured twice: on the bare files, and as a project
(`jo.yaml` beside them, so every cross-file reference rule runs too).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

JOURNEY = """\
# yaml-language-server: $schema=../schemas/journey.schema.json
kind: journey
id: journey-{n}
name: Welcome series {n}
description: New subscribers get a welcome email, a tip three days later and an SMS for gold members.
tags: [onboarding, email]
entry:
  {{type: audience, audience: new-subscribers, schedule: {{cron: "0 9 * * *"}}, incremental: true, next: check-consent}}
settings:
  timezone: Europe/Paris
  use_profile_timezone: true
  reentrance: {{allowed: false}}
  rules: default
  exit_when: profile.unsubscribed == true
steps:
  check-consent:
    type: condition
    paths:
      - {{name: opted-in, when: profile.consent.email, next: welcome-email}}
      - name: gold
        when: profile.tier == "gold"
        next: welcome-email
    otherwise: end
  welcome-email:
    type: message
    channel: email
    content: {{subject: "Welcome {{{{ profile.first_name }}}}", body_file: templates/welcome.html}}
    next: wait-3d
  wait-3d: {{type: wait, duration: P3D, next: weekday}}
  weekday:
    type: time-condition
    paths:
      - {{name: office-hours, days: [mon, tue, wed, thu, fri], from: "09:00", to: "18:00", next: tip-email}}
    otherwise: wait-later
  tip-email:
    type: message
    channel: email
    content:
      subject: A tip for you
      body_file: templates/tip.html
    next: wait-later
  wait-later:
    type: wait
    duration: P4D
    next: split
  split:
    type: split
    paths:
      - name: a
        percent: 50
        next: end
      - name: b
        percent: 50
        next: sms
  sms:
    type: message
    channel: sms
    content:
      body: "Hi {{{{ profile.first_name }}}}, 10% off this week"
    next: end
"""


PROJECT = """\
kind: project
name: bench
timezone: Europe/Paris
profiles: {source: data/profiles.csv, schema: data/profiles.schema.json, identity: id}
channels:
  email: {address: email, consent: consent.email}
  sms: {address: phone}
rules:
  default: {capping: [{channels: [email, sms], max: 3, per: P7D}]}
"""
PROFILE_SCHEMA = """{"type": "object", "properties": {"id": {"type": "string"}, "email": {"type": "string"},
  "first_name": {"type": "string"},
  "phone": {"type": "string"}, "tier": {"type": "string"}, "unsubscribed": {"type": "boolean"},
  "consent": {"type": "object", "properties": {"email": {"type": "boolean"}}}}}"""


def write_project(root: Path) -> None:
    """What the bench journeys reference: jo.yaml, the audience, the templates, the profile data."""
    (root / "jo.yaml").write_text(PROJECT, encoding="utf-8")
    for relative, text in {
        "audiences/new-subscribers.yaml": "kind: audience\nid: new-subscribers\nwhere: profile.tier == 'new'\n",
        "templates/welcome.html": "<p>Welcome</p>",
        "templates/tip.html": "<p>A tip</p>",
        "data/profiles.csv": "id,email\n",
        "data/profiles.schema.json": PROFILE_SCHEMA,
    }.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")


def median_seconds(command: list[str], repeat: int, cwd: Path) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(command, cwd=cwd, capture_output=True)
        times.append(time.perf_counter() - start)
        if done.returncode not in (0,):
            sys.exit(f"{' '.join(command)} exited {done.returncode}: {done.stderr.decode()[:500]}")
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "journeys").mkdir()
        for n in range(args.files):
            (root / "journeys" / f"journey-{n}.yaml").write_text(JOURNEY.format(n=n), encoding="utf-8")
        lines = JOURNEY.count("\n")
        parse_floor = (
            "import pathlib, yaml\n"
            "for p in sorted(pathlib.Path('journeys').glob('*.yaml')):\n"
            "    yaml.load(p.read_bytes(), Loader=yaml.CSafeLoader)\n"
        )
        start_floor = median_seconds([python, "-c", "pass"], args.repeat, root)
        parse = median_seconds([python, "-c", parse_floor], args.repeat, root)
        helped = median_seconds([python, "-m", "jo_cli", "--help"], args.repeat, root)
        validate = median_seconds([python, "-m", "jo_cli", "validate", "journeys"], args.repeat, root)
        write_project(root)
        project = median_seconds([python, "-m", "jo_cli", "validate"], args.repeat, root)
    print(f"jo --help: {helped:.3f} s (bar 0.300 s; {helped / start_floor:.1f}x `python -c pass` {start_floor:.3f} s)")
    print(f"jo validate {args.files} files x {lines} lines: {validate:.3f} s (bar 1.000 s; "
          f"{validate / parse:.1f}x the C-loader parse floor {parse:.3f} s)")
    print(f"jo validate, the same files as a project (cross-file rules too): {project:.3f} s (bar 1.000 s; "
          f"{project / parse:.1f}x the floor)")
    ok = helped < 0.3 and validate < 1.0 and project < 1.0
    print("within SPEC §11 bars" if ok else "OUTSIDE SPEC §11 bars")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
