"""`jo init` as a library: a new project skeleton that validates clean (SPEC §3).

The skeleton is one working example of each piece: jo.yaml, a welcome
journey on a sign-up event, an audience, the template the journey sends,
sample profiles typed by their schema, jo's schemas for editors, the
.gitignore for the run store and a pre-commit configuration.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from jo_cli.errors import JoError
from jo_cli.project import PROJECT_FILES
from jo_cli.schema.bundled import SCHEMA_NAMES, schema_file_name, schema_text

GITIGNORE_LINE = ".jo/"
_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")

PROJECT = """\
# yaml-language-server: $schema=./schemas/project.schema.json
kind: project
name: @NAME@
timezone: UTC                       # the default IANA zone, e.g. Europe/Paris
store: .jo/store.db                 # the run store (git-ignored)

profiles:
  source: data/profiles.csv         # one row per profile, with a header row
  schema: data/profiles.schema.json # the type of each column
  identity: id                      # the profile key
  timezone_field: timezone          # each profile's own zone, when it has one

channels:
  email:
    address: email                  # the profile field holding the address
    consent: consent.email          # false excludes the profile; empty counts as consent
    delivery: {type: outbox}        # messages wait in the store; `smtp` and `webhook` send them

rules:
  default:                          # applies to every marketing message
    capping:
      - {channels: [email], max: 3, per: P7D}
    quiet_hours:
      windows:
        - {from: "21:00", to: "08:00"}
      timezone: profile
      handling: queue
"""

JOURNEY = """\
# yaml-language-server: $schema=../schemas/journey.schema.json
kind: journey
id: welcome
name: Welcome
description: Greets each new sign-up with an email, then sends a few tips three days later.
tags: [onboarding]
entry: {type: event, event: signed_up, next: has-email}
settings:
  reentrance: {allowed: false}      # one welcome per profile, ever
steps:
  has-email:
    type: condition
    paths:
      - {name: reachable, when: profile.email is not null, next: welcome-email}
    otherwise: end
  welcome-email:
    type: message
    channel: email
    content:
      subject: "Welcome, {{ profile.first_name }}!"
      body_file: templates/welcome.html
    next: wait-3d
  wait-3d: {type: wait, duration: P3D, next: tips-email}
  tips-email:
    type: message
    channel: email
    content:
      subject: "Three tips to get started"
      body: "<p>Hi {{ profile.first_name }}, here are three tips to make the most of your account.</p>"
    next: end
"""

AUDIENCE = """\
# yaml-language-server: $schema=../schemas/audience.schema.json
kind: audience
id: email-subscribers
description: Profiles with an email address who did not refuse marketing email
where: profile.email is not null and profile.consent.email != false
"""

EVENT = """\
# yaml-language-server: $schema=../schemas/event.schema.json
kind: event
id: signed_up
description: A visitor created an account
key: profile_id                     # the payload field holding the profile's identity
schema:
  type: object
  properties:
    profile_id: {type: string}
    source: {type: string, enum: [web, app, store]}
  required: [profile_id]
"""

TEMPLATE = """\
<!doctype html>
<html lang="en">
  <body>
    <h1>Welcome, {{ profile.first_name }}!</h1>
    <p>Thanks for signing up. We are glad to have you with us.</p>
  </body>
</html>
"""

PROFILES_CSV = """\
id,first_name,email,timezone,consent.email
p01,Ada,ada@example.org,Europe/London,true
p02,Grace,grace@example.org,America/New_York,true
p03,Alan,alan@example.org,,false
p04,Katherine,,Europe/Paris,
p05,Linus,linus@example.org,Europe/Helsinki,
"""

PROFILES_SCHEMA = json.dumps({
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Profiles",
    "description": "One row per profile in data/profiles.csv.",
    "type": "object",
    "required": ["id", "first_name"],
    "properties": {
        "id": {"description": "Profile identity (jo.yaml's `identity`).", "type": "string"},
        "first_name": {"description": "First name.", "type": "string"},
        "email": {"description": "Email address.", "type": "string", "format": "email"},
        "timezone": {"description": "IANA time zone of the profile, e.g. Europe/Paris.", "type": "string"},
        "consent": {
            "description": "Marketing consent per channel; an empty cell counts as consent.",
            "type": "object",
            "properties": {"email": {"description": "Agrees to marketing email.", "type": "boolean"}},
        },
    },
}, indent=2) + "\n"

PRE_COMMIT_CONFIG = """\
# Run `jo validate` before every commit: pip install pre-commit && pre-commit install
repos:
  - repo: local
    hooks:
      - id: jo-validate
        name: jo validate
        entry: jo validate          # the whole project: checks across files need every file
        language: system            # the jo installed where git runs
        pass_filenames: false
        require_serial: true
        files: (^|/)(jo\\.ya?ml|(journeys|campaigns|audiences|events|templates|data)/.+)$
  # Or let pre-commit install jo itself, from jo's repository:
  # - repo: https://github.com/your-org/jo   # wherever jo is hosted
  #   rev: v@VERSION@
  #   hooks:
  #     - id: jo-validate           # each changed jo file on its own
  #     - id: jo-validate-project   # the whole project, serially (cross-file checks)
"""

GITIGNORE = f"""\
# jo's run store (SPEC §3)
{GITIGNORE_LINE}
"""


def project_files(name: str) -> dict[str, str]:
    """The skeleton for a project called `name`: relative path -> text, in the order they are written."""
    from jo_cli import __version__

    files = {
        "jo.yaml": PROJECT.replace("@NAME@", _yaml_scalar(name)),
        "journeys/welcome.yaml": JOURNEY,
        "audiences/email-subscribers.yaml": AUDIENCE,
        "events/signed_up.yaml": EVENT,
        "templates/welcome.html": TEMPLATE,
        "data/profiles.csv": PROFILES_CSV,
        "data/profiles.schema.json": PROFILES_SCHEMA,
    }
    files.update({f"schemas/{schema_file_name(kind)}": schema_text(kind) for kind in SCHEMA_NAMES})
    files[".gitignore"] = GITIGNORE
    files[".pre-commit-config.yaml"] = PRE_COMMIT_CONFIG.replace("@VERSION@", __version__)
    return files


def init_project(directory: Path, *, name: str) -> list[Path]:
    """Write a new project into `directory` (created if missing); the files written, in order.

    Refuses (exit 2) a directory that already holds a jo.yaml. Never
    overwrites a file: one that exists is kept as it is, except that an
    existing .gitignore gets a `.jo/` line appended when it has none.
    """
    if not name.strip():
        raise JoError("the project needs a name: pass --name NAME")
    for project_file in PROJECT_FILES:
        if (directory / project_file).exists():
            raise JoError(f"{directory / project_file} already exists; jo init never overwrites a project")
    if directory.exists() and not directory.is_dir():
        raise JoError(f"{directory} exists and is not a directory")
    written: list[Path] = []
    try:
        for relative, text in project_files(name).items():
            path = directory / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            if relative == ".gitignore" and path.exists():
                if _ignore_store(path):
                    written.append(path)
            elif _create(path, text):
                written.append(path)
    except OSError as exc:
        raise JoError(f"cannot write the project into {directory}: {exc.strerror or exc}") from exc
    return written


def _create(path: Path, text: str) -> bool:
    """Write `path` only if it does not exist (exclusive create: no race can overwrite it)."""
    try:
        with path.open("x", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    except FileExistsError:
        return False
    return True


def _ignore_store(gitignore: Path) -> bool:
    """Append `.jo/` to an existing .gitignore that does not ignore it yet; True when it did."""
    text = gitignore.read_text(encoding="utf-8", errors="replace")
    if any(line.strip() in (".jo", ".jo/", "/.jo", "/.jo/") for line in text.splitlines()):
        return False
    with gitignore.open("a", encoding="utf-8", newline="\n") as handle:
        handle.write(("" if not text or text.endswith("\n") else "\n") + GITIGNORE)
    return True


def _yaml_scalar(text: str) -> str:
    """`text` as a YAML scalar: plain when safe, else a JSON string (valid YAML)."""
    from jo_cli.loader import resolve_plain

    try:
        plain = _PLAIN_NAME.match(text) is not None and isinstance(resolve_plain(text), str)
    except ValueError:  # a number literal too long to read
        plain = False
    return text if plain else json.dumps(text, ensure_ascii=False)
