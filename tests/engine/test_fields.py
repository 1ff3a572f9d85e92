"""Which profile fields a dry-run keeps (jo_cli/engine/fields.py): everything a journey can read, or all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from jo_cli.engine.fields import profile_fields

CHANNELS = {"email": {"address": "email", "consent": "consent.email"}, "sms": {"address": "phone"}}
AUDIENCES = {"gold": {"where": 'profile.tier == "gold"'}, "vip": {"where": 'inAudience("gold") and profile.vip'},
             "uploaded": {"source": "data/vip.csv"}}


def fields(text: str, tmp_path: Path, **files: str) -> frozenset[str] | None:
    for name, content in files.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return profile_fields(data, root=tmp_path, audiences=AUDIENCES, channels=CHANNELS, always=("id", "timezone"))


def test_expressions_audiences_channels_templates_and_updates(tmp_path: Path) -> None:
    text = """
entry: {type: audience, audience: vip, next: c}
settings: {exit_when: profile.unsubscribed}
steps:
  c: {type: condition, paths: [{name: a, when: 'profile.score > 1 and inAudience("gold")', next: m}]}
  m: {type: message, channel: email, content: {subject: 'Hi {{ profile.first_name }}', body_file: b.html}, next: u}
  u: {type: update-profile, set: {loyalty.level: '"x"'}, next: w}
  w: {type: wait, until: 'setHours(profile.birthday, 9)', next: end}
"""
    assert fields(text, tmp_path, **{"b.html": "{{ profile.city }} {{ event.x }}"}) == {
        "id", "timezone", "tier", "vip", "unsubscribed", "score", "email", "consent", "first_name", "city",
        "loyalty", "birthday"}


def test_reads_that_cannot_be_named_keep_everything(tmp_path: Path) -> None:
    base = "entry: {type: audience, audience: uploaded, next: m}\nsteps:\n"
    whole = base + "  m: {type: message, channel: sms, content: {body: '{{ profile }}'}, next: end}\n"
    items = base + "  m: {type: message, channel: sms, content: {body: '{{ profile.items() }}'}, next: end}\n"
    computed = base + "  c: {type: condition, paths: [{name: a, when: 'inAudience(profile.tier)', next: end}]}\n"
    broken = base + "  m: {type: message, channel: sms, content: {body: '{{ profile.x '}, next: end}\n"
    missing = base + "  m: {type: message, channel: email, content: {subject: s, body_file: nope.html}, next: end}\n"
    for text in (whole, items, computed, broken, missing):
        assert fields(text, tmp_path) is None, text
    plain = base + "  m: {type: message, channel: sms, content: {body: 'Hello'}, next: end}\n"
    assert fields(plain, tmp_path) == {"id", "timezone", "phone"}
