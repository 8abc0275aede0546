"""The archiver: the one writer of archive.db for the whole cluster (frontier.py says why).

    nianbao archiver --frontier redis://host:6379/0 --db archive.db [--once]

Each message is moved to the processing list (LMOVE), applied in one SQLite transaction
with its marker, committed, then removed (LREM). Items go through the same Recorder as a
one-machine crawl's item pipeline; site statuses come from the same SiteOutcome rules;
derived data only through Archive.finish(), once per finished cycle.
"""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from nianbao.pipeline.store import Archive, now

from ..items import FetchFailed, NotModified, SiteUpdate, StoredDoc
from ..recorder import Recorder, open_run
from ..spiders.column import SiteOutcome
from . import frontier as fr
from . import pagecap
from . import validators

log = logging.getLogger(__name__)


def _item(d: dict):
    d = dict(d)
    kind = d.pop("k")
    if kind == "doc":
        return StoredDoc(body=b"", **d)
    if kind == "fail":
        d.pop("parent_sha256", None)
        return FetchFailed(**d)
    if kind == "nm":
        return NotModified(**d)
    if kind == "site":
        return SiteUpdate(**d)
    raise ValueError(f"unknown item kind {kind!r}")


def _merge(have: dict, new: dict) -> dict:
    """Fold one callback's findings into a site's: records are a union, the column's
    count the largest stated, the first word on anything else stands (as on one machine,
    where the first page to say it wins)."""
    for k, v in new.items():
        if k == "records":
            have[k] = sorted(set(have.get(k, [])) | set(v))
        elif k in ("lost_via", "empty_via"):
            have[k] = {**v, **have.get(k, {})}
        elif k == "expected":
            have[k] = v if have.get(k) is None else max(have[k], v or 0)
        elif k == "capped":
            have[k] = bool(have.get(k)) or bool(v)
        elif have.get(k) is None:
            have[k] = v
    return have


def _outcome(site_cfg: dict, found, failed, status, reason, gaps, extra) -> SiteOutcome:
    o = SiteOutcome(found=found, detail_failed=failed, status=status, reason=reason, gaps=json.loads(gaps))
    for k, v in json.loads(extra).items():
        if hasattr(o, k):
            setattr(o, k, set(v) if k == "records" else v)
    # Discovery started where the seed started it (the same rule as the spider's start()).
    o.discovering = bool(site_cfg.get("discover") or not site_cfg.get("start_url"))
    return o


class Archiver:
    def __init__(self, r, db: str | Path, raw_root: str | Path | None = None):
        self.r = r
        self.archive = Archive(db, raw_root)
        self.archive.conn.execute("PRAGMA busy_timeout = 600000")
        self.finished: list[dict] = []  # cycles closed by this process: their runs rows

    def close(self) -> None:
        self.archive.close()

    # ---------------------------------------------------------------- messages
    def recover(self) -> int:
        """What a previous archiver took but may not have committed: apply (or recognise) it."""
        n = 0
        for raw in self.r.lrange(fr.PROCESSING, 0, -1):
            self.apply_or_reject(raw)
            self.r.lrem(fr.PROCESSING, 1, raw)
            n += 1
        if n:
            log.warning("archiver: %d message(s) left by a previous archiver recovered", n)
        return n

    def step(self, timeout: float = 1.0) -> bool:
        raw = self.r.blmove(fr.ITEMS, fr.PROCESSING, timeout, "LEFT", "RIGHT")
        if raw is None:
            return False
        self.apply_or_reject(raw)
        self.r.lrem(fr.PROCESSING, 1, raw)
        return True

    def apply_or_reject(self, raw: bytes) -> None:
        """A message that cannot be applied (not JSON, an unknown kind, a cycle nobody
        seeded in this archive) is set aside whole in `nianbao:items:rejected` with the
        reason, loudly, and the archiver carries on. A database error is not the
        message's fault: it stops the archiver (the message stays to be retried)."""
        try:
            self.apply(raw)
        except (ValueError, KeyError, TypeError, RuntimeError) as e:
            why = f"{type(e).__name__}: {e}"
            log.error("archiver: message rejected (%s); kept in %s", why, fr.REJECTED)
            self.r.rpush(fr.REJECTED, json.dumps({"error": why, "message": raw.decode("utf-8", "replace")},
                                                 ensure_ascii=False))

    def apply(self, raw: bytes) -> None:
        msg = json.loads(raw)
        a = self.archive
        with a.batch():
            if msg["t"] == "cycle":
                self._open_cycle(msg)
            elif msg["t"] == "batch":
                self._apply_batch(msg)
            else:
                raise ValueError(f"unknown message {msg['t']!r}")
        if msg["t"] == "batch":  # committed: workers may now ask for these conditionally
            validators.publish(self.r, a.conn, [d["url"] for d in msg["items"] if d["k"] == "doc"])

    def _open_cycle(self, msg: dict) -> None:
        conn = self.archive.conn
        if conn.execute("SELECT 1 FROM frontier_cycles WHERE cycle = ?", (msg["cycle"],)).fetchone():
            return
        run_id = open_run(self.archive, msg["sites"], sweep=False)
        conn.execute("INSERT INTO frontier_cycles (cycle, run_id, sites, started) VALUES (?, ?, ?, ?)",
                     (msg["cycle"], run_id, json.dumps(msg["sites"], ensure_ascii=False), now()))
        conn.executemany("INSERT OR IGNORE INTO frontier_sites (cycle, site) VALUES (?, ?)",
                         [(msg["cycle"], s) for s in msg["sites"]])

    def _apply_batch(self, msg: dict) -> None:
        conn = self.archive.conn
        if conn.execute("SELECT 1 FROM frontier_applied WHERE id = ?", (msg["fid"],)).fetchone():
            return  # committed before a crash, not yet removed from the list
        row = conn.execute("SELECT run_id FROM frontier_cycles WHERE cycle = ?", (msg["cycle"],)).fetchone()
        if row is None:
            raise RuntimeError(f"message of cycle {msg['cycle']} before its seed: was the archive replaced?")
        run_id = row[0]
        rec = Recorder(self.archive, run_id)
        for d in msg["items"]:
            item = _item(d)
            if isinstance(item, FetchFailed):
                rec.failed(item, parent_sha256=d.get("parent_sha256"))
            else:
                rec.record(item)
        if msg.get("pages"):
            self.archive.crawl.count(run_id, "pages", msg["pages"])
        for site, kind, *rest in msg["events"]:
            self._event(msg["cycle"], site, kind, rest)
        conn.execute("INSERT INTO frontier_applied (id, cycle) VALUES (?, ?)", (msg["fid"], msg["cycle"]))

    def _event(self, cycle: str, site: str, kind: str, rest: list) -> None:
        conn = self.archive.conn
        conn.execute("INSERT OR IGNORE INTO frontier_sites (cycle, site) VALUES (?, ?)", (cycle, site))
        if kind in ("found", "detail_failed"):
            conn.execute(f"UPDATE frontier_sites SET {kind} = {kind} + ? WHERE cycle = ? AND site = ?",
                         (int(rest[0]), cycle, site))
        elif kind == "status":  # the first worker to know decides, as the first event does on one machine
            conn.execute("UPDATE frontier_sites SET status = ?, reason = ? WHERE cycle = ? AND site = ? "
                         "AND status IS NULL", (rest[0], rest[1], cycle, site))
        elif kind == "gap":
            conn.execute("UPDATE frontier_sites SET gaps = json_insert(gaps, '$[#]', ?) WHERE cycle = ? AND site = ?",
                         (rest[0], cycle, site))
        elif kind == "merge":  # completeness: the union of what every worker saw of the column
            (extra,) = conn.execute("SELECT extra FROM frontier_sites WHERE cycle = ? AND site = ?",
                                    (cycle, site)).fetchone()
            conn.execute("UPDATE frontier_sites SET extra = ? WHERE cycle = ? AND site = ?",
                         (json.dumps(_merge(json.loads(extra), rest[0]), ensure_ascii=False), cycle, site))

    # ---------------------------------------------------------------- cycles
    def finish_ready(self) -> list[dict]:
        """Close every cycle whose requests are all settled and applied."""
        conn = self.archive.conn
        closed = []
        todo = conn.execute("SELECT cycle, run_id FROM frontier_cycles WHERE finished IS NULL").fetchall()
        for cycle, run_id in todo:
            open_ = self.r.get(fr.open_key(cycle))
            if open_ is not None and int(open_) > 0:
                continue
            # No request open: every one was settled, and each settle queued exactly one
            # message. The cycle is over once all of those are in the archive.
            settled = self.r.scard(fr.settled_key(cycle))
            applied = conn.execute("SELECT COUNT(*) FROM frontier_applied WHERE cycle = ?", (cycle,)).fetchone()[0]
            if open_ is not None and applied < settled:
                continue
            closed.append(self._finish(cycle, run_id, lost=open_ is None))
        return closed

    def _finish(self, cycle: str, run_id: int, lost: bool) -> dict:
        a, conn = self.archive, self.archive.conn
        log_ = a.crawl
        blocked = 0
        expected = reached = None
        configs = self._configs(cycle)
        with a.batch():
            for site, found, failed, status, reason, gaps, extra in conn.execute(
                    "SELECT site, found, detail_failed, status, reason, gaps, extra FROM frontier_sites "
                    "WHERE cycle = ?", (cycle,)).fetchall():
                o = _outcome(configs.get(site, {}), found, failed, status, reason, gaps, extra)
                if lost and o.status is None:
                    o.status = "failed"
                    o.reason = "the frontier lost this cycle's state (Redis restarted without its data?)"
                st, why = o.final()
                blocked += st == "blocked"
                log_.set_site(site, status=st, reason=why, found=found, last_run=run_id, expected=o.expected,
                              reached=o.reached)
                if o.expected is not None:  # the run's ratio, over the columns that state a count
                    expected = (expected or 0) + o.expected
                    reached = (reached or 0) + min(o.reached, o.expected)
            log_.set_completeness(run_id, expected, reached)
            log_.count(run_id, "blocked", blocked)
            log_.finish_run(run_id, "failed" if lost else "finished",
                            "frontier state lost" if lost else None)
            conn.execute("UPDATE frontier_cycles SET finished = ? WHERE cycle = ?", (now(), cycle))
        a.finish()
        self.r.delete(fr.dupefilter_key(cycle), fr.settled_key(cycle), fr.open_key(cycle), fr.progress_key(cycle),
                      *pagecap.keys(cycle))
        self.r.srem(fr.CYCLES, cycle)
        run = log_.run(run_id)
        self.finished.append(run)
        log.warning("cycle %s finished: run %s", cycle, run_id)
        return run

    def _configs(self, cycle: str) -> dict:
        """The site configs the cycle was seeded with."""
        return json.loads(self.archive.conn.execute("SELECT sites FROM frontier_cycles WHERE cycle = ?",
                                                    (cycle,)).fetchone()[0])

    def open_cycles(self) -> int:
        return self.archive.conn.execute("SELECT COUNT(*) FROM frontier_cycles WHERE finished IS NULL").fetchone()[0]

    # ---------------------------------------------------------------- loop
    def run(self, *, once: bool = False, poll: float = 0.5, should_stop=lambda: False,
            on_finished=lambda run: None) -> None:
        """Drain for ever (a service), or with `once` until every cycle is finished and
        nothing is left to apply. `on_finished(run)` hears of each cycle closed."""
        self._recover_with_retry(should_stop)
        last_look = 0.0
        while not should_stop():
            try:
                busy = self.step(timeout=poll)
                if busy and time.monotonic() - last_look < 2:
                    continue
                last_look = time.monotonic()  # also while busy: other cycles' messages never stop
                fr.recover_dead(self.r)  # a dead worker's requests, back on the queue
                for run in self.finish_ready():
                    on_finished(run)
                if once and not busy and not self.open_cycles() and not self.r.llen(fr.ITEMS):
                    return
            except fr.REDIS_ERRORS as e:
                log.warning("archiver: Redis unavailable (%s); waiting", e)
                time.sleep(poll)
                self._recover_with_retry(should_stop)

    def _recover_with_retry(self, should_stop) -> None:
        while not should_stop():
            try:
                self.recover()
                return
            except fr.REDIS_ERRORS as e:
                log.warning("archiver: Redis unavailable (%s); waiting", e)
                time.sleep(1)
