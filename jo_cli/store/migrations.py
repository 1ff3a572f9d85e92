"""The store's schema, as forward-only migrations: MIGRATIONS[n] takes schema version n to n + 1.

Times are whole seconds since the epoch (UTC) in INTEGER columns: compact,
ordered, and what §0 prints. Tables written once per profile are keyed so
that a run inserts in key order (reference/perf.md §4b: a composite key in
random order is 4x slower), carry integer codes rather than repeated text,
and keep few rows per profile: an instance's step history lives in its own
row, so 10M instances are 10M rows. The keys and indexes, table by table:

- versions: PRIMARY KEY (id, version), the lookups of publish, diff, versions
  and every run; a partial UNIQUE index makes a second `live` version of one
  id impossible, whatever a racing writer does. version_files and
  frozen_files keep every referenced file once per content (its sha256).
- version_names: a version's step ids and outcome names as small integers,
  for the history and the counts (written at publish, read by reports).
- journeys: a journey id's small integer `code` (INTEGER PRIMARY KEY, the
  id UNIQUE), given at its first instance, so instance keys carry an
  integer rather than the id's text.
- instance_rows: PRIMARY KEY (journey code, profile, entry), the engine's
  lookups ("this profile's latest entry", "its active instance"); the entry
  history (entries so far, the last one's time) is read from here, so
  pruning keeps each profile's latest instance. Beside the key only what SQL
  filters on: seq, version, ended_at (NULL while active, so a new active
  row binds six values); everything else is one `body` BLOB (instances.py:
  entry, step, wake and end fields as varints, the canonical JSON of what
  is not a field, then the packed step history), which most instances of
  a chunk share byte for byte. No index beside the key: "every active
  instance of a journey" (its end, `jo stop`) is a scan of the key's
  prefix, and every further index is one more B-tree write per entering
  profile (bench_store.py's rows, SQL alone, 10k-row commits: 1.6x the
  floor with wake-up buckets, 1.9x with a wake index per instance, 3.4x
  the former layout of 14 columns, TEXT journey id and a wake index). The
  view `instances` (journey id, profile, entry, seq, version, ended_at) is
  what versions.py counts.
- wakeups: one row per commit and (wake time, kind) holding the instances
  it parked there (JSON groups [journey code, entry, [profile, ...]]),
  indexed by wake time: a parked instance costs no index entry of its own.
  A member is due only while its own row still has that wake time and kind
  and is active, so moving or ending an instance writes nothing here; a row
  a read finds without a due member is deleted by the next commit.
- outbox: `seq` is the export/ack cursor (AUTOINCREMENT: never reused, even
  after the newest row is pruned); UNIQUE key makes creating a message twice
  impossible (INSERT ... ON CONFLICT DO NOTHING in the chunk's transaction);
  a partial index holds only what still has to be delivered.
- fires: PRIMARY KEY (id, scheduled_at): one claim per (journey or campaign,
  scheduled time), won by exactly one run; its result or skip reason beside it.
  A fire in progress is `claimed` with its progress, written in each chunk's
  transaction: `members` the position reached in the audience read, `cursor`
  the last identity entered (a rerun after a crash goes on after it, found
  again in the audience as read then), `entered`; then `done`, `failed`
  (`reason`: why, retried by later passes) or `skipped` (`reason`:
  superseded, too_late, outside_window, no_live_version). The latest done
  or skipped is where the next pass's fires start; `run` is the pass.
- audience_members: the membership snapshot saved under each key (an
  incremental fire, an audience qualification; the next one compares with
  it), keyed for the read of one key; the row with the empty profile says a
  snapshot exists, so an empty audience's is told from none (an identity is
  never empty).
- events: `seq` is push order; UNIQUE event_id drops a retried push (NULLs
  never collide); a partial index holds the events still queued;
  event_results records what each listening journey did with each (journey
  '' when none listens), written with the offer's own changes: a leftover's
  `discarded` is rewritten `consumed` if a rematch takes it, and the event is
  `done` only once every journey has its result, so a pass cut short offers
  it again only to the journeys that have none.
- overlay: update-profile's writes, keyed by (profile, field): the value and
  the source's value when written, as canonical JSON (store/state.py).
- counters: named counts (profile-cap's), one row each.
- discards: entries refused by §6.2's rules, counted per (journey, version,
  reason): a fire refusing a million members adds no row per member.
- sends: the messages counted by capping's sliding windows, keyed for the
  window's range scan per profile and channel.
- action_calls: keyed by the call's idempotency key; a partial index holds
  the calls still to make.
- runs: one row per run-batch pass, for `jo status` and the run lock's report.
"""

from __future__ import annotations

MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE versions (
            id TEXT NOT NULL,
            version INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('journey', 'campaign')),
            hash TEXT NOT NULL,
            document TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('live', 'closed', 'stopped')),
            published_at INTEGER NOT NULL,
            published_by TEXT NOT NULL,
            closed_at INTEGER,
            PRIMARY KEY (id, version)
        ) WITHOUT ROWID""",
        "CREATE UNIQUE INDEX versions_one_live ON versions (id) WHERE status = 'live'",
        """CREATE TABLE frozen_files (
            hash TEXT PRIMARY KEY,
            content BLOB NOT NULL
        ) WITHOUT ROWID""",
        """CREATE TABLE version_files (
            id TEXT NOT NULL,
            version INTEGER NOT NULL,
            path TEXT NOT NULL,
            hash TEXT NOT NULL REFERENCES frozen_files (hash),
            PRIMARY KEY (id, version, path),
            FOREIGN KEY (id, version) REFERENCES versions (id, version)
        ) WITHOUT ROWID""",
        """CREATE TABLE version_names (
            id TEXT NOT NULL,
            version INTEGER NOT NULL,
            code INTEGER NOT NULL,
            name TEXT NOT NULL,
            PRIMARY KEY (id, version, code),
            FOREIGN KEY (id, version) REFERENCES versions (id, version)
        ) WITHOUT ROWID""",
        """CREATE TABLE journeys (
            code INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE
        )""",
        """CREATE TABLE instance_rows (
            journey INTEGER NOT NULL,
            profile TEXT NOT NULL,
            entry INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            version INTEGER NOT NULL,
            body BLOB NOT NULL,
            ended_at INTEGER,
            PRIMARY KEY (journey, profile, entry)
        ) WITHOUT ROWID""",
        """CREATE VIEW instances AS
            SELECT j.id AS journey, i.profile, i.entry, i.seq, i.version, i.ended_at
            FROM instance_rows i JOIN journeys j ON j.code = i.journey""",
        """CREATE TABLE wakeups (
            id INTEGER PRIMARY KEY,
            wake_at INTEGER NOT NULL,
            kind INTEGER NOT NULL,
            members TEXT NOT NULL
        )""",
        "CREATE INDEX wakeups_at ON wakeups (wake_at)",
        """CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            key TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            id TEXT NOT NULL,
            version INTEGER,
            step TEXT NOT NULL,
            profile TEXT NOT NULL,
            channel TEXT NOT NULL,
            message TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sent', 'failed', 'dead', 'cancelled')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER,
            last_error TEXT,
            done_at INTEGER
        )""",
        "CREATE INDEX outbox_due ON outbox (next_attempt_at, seq) WHERE status = 'pending'",
        """CREATE TABLE fires (
            id TEXT NOT NULL,
            scheduled_at INTEGER NOT NULL,
            version INTEGER NOT NULL,
            run INTEGER,
            status TEXT NOT NULL CHECK (status IN ('claimed', 'done', 'skipped', 'failed')),
            reason TEXT,
            members INTEGER,
            entered INTEGER,
            cursor TEXT,
            done_at INTEGER,
            PRIMARY KEY (id, scheduled_at)
        ) WITHOUT ROWID""",
        """CREATE TABLE audience_members (
            audience TEXT NOT NULL,
            profile TEXT NOT NULL,
            PRIMARY KEY (audience, profile)
        ) WITHOUT ROWID""",
        """CREATE TABLE events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            event_id TEXT UNIQUE,
            name TEXT NOT NULL,
            at INTEGER NOT NULL,
            profile TEXT,
            payload TEXT NOT NULL,
            queued_at INTEGER NOT NULL,
            done INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX events_queued ON events (at, seq) WHERE done = 0",
        """CREATE TABLE event_results (
            seq INTEGER NOT NULL REFERENCES events (seq),
            journey TEXT NOT NULL,
            result TEXT NOT NULL CHECK (result IN ('consumed', 'discarded')),
            reason TEXT,
            PRIMARY KEY (seq, journey)
        ) WITHOUT ROWID""",
        """CREATE TABLE overlay (
            profile TEXT NOT NULL,
            field TEXT NOT NULL,
            value TEXT,
            source_value TEXT,
            PRIMARY KEY (profile, field)
        ) WITHOUT ROWID""",
        """CREATE TABLE counters (
            name TEXT PRIMARY KEY,
            value INTEGER NOT NULL
        ) WITHOUT ROWID""",
        """CREATE TABLE discards (
            journey TEXT NOT NULL,
            version INTEGER NOT NULL,
            reason TEXT NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY (journey, version, reason)
        ) WITHOUT ROWID""",
        """CREATE TABLE sends (
            profile TEXT NOT NULL,
            channel TEXT NOT NULL,
            at INTEGER NOT NULL,
            key TEXT NOT NULL,
            PRIMARY KEY (profile, channel, at, key)
        ) WITHOUT ROWID""",
        """CREATE TABLE action_calls (
            key TEXT PRIMARY KEY,
            journey TEXT NOT NULL,
            version INTEGER NOT NULL,
            profile TEXT NOT NULL,
            entry INTEGER NOT NULL,
            step TEXT NOT NULL,
            action TEXT NOT NULL,
            request TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'ok', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            response TEXT,
            last_error TEXT,
            created_at INTEGER NOT NULL,
            done_at INTEGER
        ) WITHOUT ROWID""",
        "CREATE INDEX action_calls_pending ON action_calls (created_at) WHERE status = 'pending'",
        """CREATE TABLE runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            started_at INTEGER NOT NULL,
            now INTEGER NOT NULL,
            ended_at INTEGER,
            status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
            host TEXT NOT NULL,
            pid INTEGER NOT NULL,
            summary TEXT
        )""",
    ],
]
