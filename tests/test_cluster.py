"""The shared frontier with real parts: a real redis-server, two real Scrapyd 1.6 nodes on
loopback (the project deployed to both with scrapyd-deploy), crawl workers scheduled as
Scrapyd jobs, `nianbao archiver` as the one writer, 20 mock portals over real HTTP.

- 3 workers on 2 nodes crawl 20 portals: no URL is fetched twice (counted at the
  portals), and the archive equals a one-machine `nianbao crawl` of the same portals;
- kill -9 of a worker and of the archiver mid-crawl, then restart: nothing lost,
  nothing written twice;
- Redis stopped and restarted mid-crawl: workers pause and resume, nothing lost;
- the raw store full under a worker: a recorded gap, never half a file;
- `cluster seed --due`: spring weekly, otherwise monthly, per-site `schedule:`.
"""
from __future__ import annotations

import collections
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from enospc import RAW_STORE_FULL
from nianbao.crawler.cluster import seed as seeding
from nianbao.devkit.portals import start_portals, stop_portals

ROOT = Path(__file__).resolve().parents[1]
NIANBAO = [sys.executable, "-m", "nianbao"]
# Not a skip: ./dev installs redis-server, and a missing one is a broken set-up to see.
REDIS_SERVER = shutil.which("redis-server") or "redis-server (not found: run ./dev setup)"

# Local mock portals: no politeness delay; a dead worker is noticed after 5 s.
WORKER_SETTINGS = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_START_DELAY": 0, "RETRY_BACKOFF_BASE": 0.05,
                   "NIANBAO_WORKER_TTL": 5, "NIANBAO_WORKER_IDLE_EXIT": 1.5, "NIANBAO_FRONTIER_POLL": 0.2,
                   "LOG_LEVEL": "INFO"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout: float, what: str, step: float = 0.1):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = pred()
        if got:
            return got
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Redis:
    """redis-server on a loopback port, its data in a temp dir, kept across restarts."""

    def __init__(self, d: Path):
        self.dir, self.port = d, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None
        d.mkdir(parents=True, exist_ok=True)

    def start(self):
        self.proc = subprocess.Popen([REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--dir", str(self.dir), "--appendonly", "yes", "--appendfsync", "always",
                                      "--save", "", "--protected-mode", "no"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        from nianbao.crawler.cluster.frontier import connect
        self.r = connect(self.url)

        def up():
            try:
                return self.r.ping()
            except Exception:
                return False
        wait_for(up, 10, "redis-server")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)  # a clean shutdown: the AOF is complete
        self.proc.wait(10)


class Scrapyd:
    def __init__(self, d: Path):
        self.dir, self.port = d, free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        d.mkdir(parents=True)
        (d / "scrapyd.conf").write_text(f"""[scrapyd]
bind_address = 127.0.0.1
http_port = {self.port}
eggs_dir = {d / 'eggs'}
logs_dir = {d / 'logs'}
dbs_dir = {d / 'dbs'}
items_dir =
max_proc = 2
poll_interval = 0.2
jobs_to_keep = 10
""")
        self.log = open(d / "scrapyd.out", "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "scrapyd"], cwd=d, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        wait_for(self._up, 30, f"scrapyd on {self.port}", 0.2)

    def _up(self):
        try:
            return self.get("daemonstatus.json")["status"] == "ok"
        except OSError:
            return False

    def get(self, path: str, **q) -> dict:
        url = self.url + path + ("?" + urllib.parse.urlencode(q) if q else "")
        with urllib.request.urlopen(url, timeout=10) as f:
            return json.load(f)

    def schedule(self, settings: dict) -> str:
        data = [("project", "nianbao"), ("spider", "frontier")] + [("setting", f"{k}={v}") for k, v in settings.items()]
        req = urllib.request.Request(self.url + "schedule.json", data=urllib.parse.urlencode(data).encode())
        with urllib.request.urlopen(req, timeout=10) as f:
            got = json.load(f)
        assert got["status"] == "ok", got
        return got["jobid"]

    def jobs(self) -> dict:
        return self.get("listjobs.json", project="nianbao")

    def job_log(self, job: str) -> str:
        p = self.dir / "logs" / "nianbao" / "frontier" / f"{job}.log"
        return p.read_text(errors="replace") if p.exists() else ""

    def stop(self):
        # A job still running (a test failed half-way) would wait for its Redis forever.
        try:
            pids = [j["pid"] for j in self.jobs()["running"] if j.get("pid")]
        except OSError:
            pids = []
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.log.close()


def deploy(tmp: Path, nodes: list[Scrapyd]) -> None:
    """scrapyd-deploy, as an operator runs it: from a copy of the project (the egg build
    writes build/ beside scrapy.cfg), to targets named in the user's scrapy.cfg."""
    src = tmp / "src"
    keep = ("scrapy.cfg", "setup.py", "pyproject.toml", "README.md", "nianbao", "crawler", "pipeline", "devkit")
    src.mkdir()
    for name in keep:
        p = ROOT / name
        if p.is_dir():
            shutil.copytree(p, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(p, src / name)
    xdg = tmp / "xdg"
    xdg.mkdir()
    (xdg / "scrapy.cfg").write_text("".join(f"[deploy:node{i}]\nurl = {n.url}\nproject = nianbao\n\n"
                                            for i, n in enumerate(nodes)))
    env = {**os.environ, "XDG_CONFIG_HOME": str(xdg)}
    deployer = str(Path(sys.executable).with_name("scrapyd-deploy"))
    egg = tmp / "nianbao.egg"
    subprocess.run([deployer, "--build-egg", str(egg)], cwd=src, env=env, check=True, capture_output=True)
    for i in range(len(nodes)):
        p = subprocess.run([deployer, f"node{i}", "--egg", str(egg), "--version", "1"], cwd=src, env=env,
                           capture_output=True, text=True)
        assert p.returncode == 0 and '"status": "ok"' in p.stdout, p.stdout + p.stderr


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cluster")
    redis = Redis(tmp / "redis")
    redis.start()
    portals = start_portals(count=20, n_reports=2, n_other=1, seed=700, first_host=150, forms=("html", "pdf"))
    # Bad days, so that honesty is compared too: a report page gone (partial), an
    # attachment gone (partial), a column gone (failed).
    from nianbao.devkit.portals import faults as F
    portals[0].faults[(urllib.parse.urlsplit(portals[0].expected_reports()[0]["url"]).path, None)] = F.status(404)
    portals[1].faults[("attachment", None)] = F.status(404)
    portals[2].faults[("list1", None)] = F.status(404)
    sites = tmp / "sites"
    sites.mkdir()
    for p in portals:
        (sites / f"{p.name}.yaml").write_text(yaml.safe_dump(p.site_config(), allow_unicode=True), encoding="utf-8")
    nodes = []
    try:
        nodes = [Scrapyd(tmp / "node0"), Scrapyd(tmp / "node1")]
        deploy(tmp, nodes)
        # The reference: the same portals crawled on one machine.
        single = tmp / "single" / "archive.db"
        single.parent.mkdir()
        p = subprocess.run(NIANBAO + ["crawl", "--db", str(single), "--sites", str(sites), "--fast"],
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 1, p.stdout + p.stderr  # a site failed
        statuses = dict(rows(single, "SELECT name, status FROM sites"))
        assert [statuses[x.name] for x in portals[:4]] == ["partial", "partial", "failed", "ok"], statuses
        for x in portals:
            x.requests.clear()
        yield {"tmp": tmp, "redis": redis, "portals": portals, "sites": sites, "nodes": nodes, "single": single}
    finally:
        for n in nodes:
            n.stop()
        stop_portals(portals)
        if redis.proc.poll() is None:
            redis.stop()


def fresh(c, name: str) -> tuple[Path, Path]:
    """An empty Redis and a new archive (with its raw store beside it) for one scenario."""
    c["redis"].r.flushall()
    for p in c["portals"]:
        p.requests.clear()
    db = c["tmp"] / name / "archive.db"
    db.parent.mkdir()
    return db, db.parent / "raw"


def seed(c, db: Path) -> str:
    p = subprocess.run(NIANBAO + ["cluster", "seed", "--frontier", c["redis"].url, "--sites", str(c["sites"]),
                                  "--db", str(db)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "20 site(s), 20 start request(s)" in p.stdout, p.stdout
    return p.stdout


def schedule_workers(c, raw: Path, n: int = 3) -> list[tuple[object, str]]:
    """n workers, spread over the two Scrapyd nodes."""
    settings = {**WORKER_SETTINGS, "NIANBAO_FRONTIER": c["redis"].url, "NIANBAO_RAW": raw,
                "NIANBAO_ARCHIVE": raw.parent / "worker-reads-no-archive.db"}
    out = []
    for i in range(n):
        node = c["nodes"][i % 2]
        out.append((node, node.schedule(settings)))
    return out


def archiver(c, db: Path, raw: Path) -> subprocess.Popen:
    return subprocess.Popen(NIANBAO + ["archiver", "--once", "--frontier", c["redis"].url, "--db", str(db),
                                       "--raw", str(raw)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen, timeout: float = 60, frontier: str | None = None) -> tuple[int, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        status = subprocess.run(NIANBAO + ["cluster", "status", "--frontier", frontier], capture_output=True,
                                text=True).stdout if frontier else ""
        raise AssertionError(f"the archiver did not finish in {timeout} s:\n{status}\n{err[-3000:]}") from None
    return proc.returncode, out + err


def wait_jobs_done(c, jobs, timeout: float = 30) -> None:
    def done():
        for node, job in jobs:
            listing = node.jobs()
            if any(j["id"] == job for j in listing["pending"] + listing["running"]):
                return False
        return True
    wait_for(done, timeout, "the worker jobs to end", 0.3)


def fetched_twice(portals) -> list:
    """(portal, method, path) answered more than once; robots.txt is read once per worker."""
    counts = collections.Counter((p.name, m, path) for p in portals for m, path, _ in p.requests
                                 if not path.startswith("/robots.txt"))
    return [k for k, n in counts.items() if n > 1]


DOCS = ("SELECT sha256, size, type, original_name, url, final_url, http_status, content_type, etag, last_modified, "
        "site, parent_sha256, role FROM documents")
FETCHES = ("SELECT url, site, role, sha256, final_url, http_status, content_type, etag, last_modified, parent_url, "
           "versions, title, published, publisher, index_no, report_year, error FROM fetches")
SITES = "SELECT name, start_url, family, agency, status, reason, found, adcode, expected, reached FROM sites"
FAILURES = "SELECT sha256, original_name, stage, reason FROM failures"


def rows(db: Path, sql: str) -> list:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return sorted(con.execute(sql).fetchall(), key=repr)
    finally:
        con.close()


def assert_same_archive(db: Path, single: Path) -> None:
    for sql in (DOCS, FETCHES, SITES, FAILURES):
        got, want = rows(db, sql), rows(single, sql)
        assert got == want, (sql.split(" FROM ")[1], [r for r in got if r not in want][:3],
                             [r for r in want if r not in got][:3])
    runs = "SELECT status, pages, new, changed, unchanged, failed, blocked, expected, reached FROM runs"
    assert rows(db, runs) == rows(single, runs)
    assert rows(db, "SELECT COUNT(*) FROM sites WHERE expected IS NOT NULL")[0][0] >= 15  # the columns' own counts


def test_three_workers_on_two_scrapyd_nodes_equal_one_machine(cluster, reliability):
    c = cluster
    db, raw = fresh(c, "three")
    seed(c, db)
    jobs = schedule_workers(c, raw)
    code, out = finish(archiver(c, db, raw), timeout=80, frontier=c['redis'].url)
    assert code == 1, out  # as the one-machine crawl: a site failed, two are partial
    assert f"{c['portals'][2].name}: failed" in out and f"{c['portals'][0].name}: partial" in out
    wait_jobs_done(c, jobs)
    assert fetched_twice(c["portals"]) == []
    assert_same_archive(db, c["single"])
    documents = rows(db, "SELECT COUNT(*) FROM documents")[0][0]
    assert documents > 20 * 3  # lists, report pages and attachments of every portal
    # WARC: the workers wrote the records (beside the archive here), the archiver the references.
    no_warc = "SELECT role, COUNT(*) FROM documents WHERE warc_file IS NULL GROUP BY role"
    assert rows(db, no_warc) == rows(c["single"], no_warc)
    for name, in rows(db, "SELECT DISTINCT warc_file FROM documents WHERE warc_file IS NOT NULL"):
        assert (db.parent / "warc" / name).is_file(), name
    logs = [node.job_log(job) for node, job in jobs]
    assert all(logs), "a Scrapyd job left no log"
    # The next cycle reads every column again (its own duplicate filter), asking
    # conditionally with the validators the archiver published: unchanged, 304s.
    for p in c["portals"]:
        p.requests.clear()
    seed(c, db)
    jobs2 = schedule_workers(c, raw, n=1)
    code, out = finish(archiver(c, db, raw), timeout=80, frontier=c["redis"].url)
    assert code == 1, out
    wait_jobs_done(c, jobs2)
    first, second = rows(db, "SELECT id, pages, new, changed, unchanged, status FROM runs ORDER BY id")
    # Unchanged: every report page and attachment (a gkmlpt body hidden in a script is
    # not re-derived from a 304, as on one machine); each one a 304 at the portal.
    assert second[1:4] == (first[1], 0, 0) and second[4] > 20 and second[5] == "finished", (first, second)
    assert sum(st == 304 for p in c["portals"] for _, _, st in p.requests) == second[4]
    assert fetched_twice(c["portals"]) == []
    reliability("3 workers on a shared frontier (2 Scrapyd nodes)", "no URL fetched twice; the archive equals a "
                "one-machine crawl's, failed and partial sites included; the next cycle asks conditionally",
                f"20 portals, {documents} documents, 0 URLs fetched twice, documents/fetches/sites/failures/runs "
                f"equal, exit 1 as on one machine; next cycle: {second[4]} × 304, nothing new", group="fault")
    # scrapy-redis 0.9.1 on Scrapy 2.19: its deprecation warnings stay visible in the
    # workers' logs (nothing filters them), so an upgrade that breaks it is seen early.
    warned = sorted({line.split("WARNING: ", 1)[-1] for x in logs for line in x.splitlines()
                     if "scrapy_redis" in line and "DeprecationWarning" in line})
    print("scrapy-redis deprecation warnings:", *warned, sep="\n  ")
    assert warned, "scrapy-redis's deprecation warnings no longer show in the worker logs"


def applied(db: Path) -> int:
    """Messages the archiver has committed so far (0 before it created the archive)."""
    try:
        return rows(db, "SELECT COUNT(*) FROM frontier_applied")[0][0] if db.exists() else 0
    except sqlite3.OperationalError:
        return 0


def _taken(c) -> int:
    r = c["redis"].r
    return sum(r.zcard(k) for k in r.scan_iter(match="nianbao:inflight:*"))


def test_kill_9_worker_and_archiver_mid_crawl_loses_nothing(cluster, reliability):
    c = cluster
    db, raw = fresh(c, "kill")
    for p in c["portals"]:
        p.delay = 0.3  # slow enough to kill things with requests in flight
    try:
        seed(c, db)
        jobs = schedule_workers(c, raw)
        arch = archiver(c, db, raw)
        # Kill one worker while it holds requests it took.
        victim = wait_for(lambda: _running_with_work(c, jobs), 40, "a worker holding requests")
        os.kill(victim, signal.SIGKILL)
        # Kill the archiver once it has written something, with more to come.
        wait_for(lambda: applied(db) > 5, 40, "the archiver to apply messages")
        arch.send_signal(signal.SIGKILL)
        arch.wait(10)
        # A replacement worker on the other node; the archiver restarted.
        jobs += schedule_workers(c, raw, n=1)
        code, out = finish(archiver(c, db, raw), timeout=80, frontier=c['redis'].url)
        assert code == 1, out
        wait_jobs_done(c, jobs)
    finally:
        for p in c["portals"]:
            p.delay = 0.0
    assert_same_archive(db, c["single"])
    marks = rows(db, "SELECT COUNT(*), COUNT(DISTINCT id) FROM frontier_applied")[0]
    assert marks[0] == marks[1]
    st = json.loads(subprocess.run(NIANBAO + ["cluster", "status", "--frontier", c["redis"].url, "--json"],
                                   capture_output=True, text=True, check=True).stdout)
    assert (st["queued"], st["inflight"], st["items"], st["processing"], st["cycles"]) == (0, 0, 0, 0, {})
    reliability("kill -9 of a frontier worker and of the archiver mid-crawl", "the worker's requests go back on "
                "the queue, the archiver's message is re-applied once; nothing lost, nothing twice",
                f"archive equal to the one-machine crawl; {marks[0]} messages applied, each once; frontier empty "
                "afterwards", group="fault")


def _running_with_work(c, jobs):
    """The pid of a running worker job that holds requests, if any."""
    r = c["redis"].r
    holders = {k.decode().rsplit(":", 1)[1] for k in r.scan_iter(match="nianbao:inflight:*") if r.zcard(k)}
    for node, job in jobs:
        for j in node.jobs()["running"]:
            if j["id"] == job and any(h.split("-")[-2] == str(j["pid"]) for h in holders):
                return j["pid"]
    return None


def test_redis_stopped_and_restarted_mid_crawl(cluster, reliability):
    c = cluster
    db, raw = fresh(c, "redis-restart")
    for p in c["portals"]:
        p.delay = 0.3
    try:
        arch = None
        seed(c, db)
        c["redis"].r.rpush("nianbao:items", b"\xff not a message")  # bad input: set aside, not fatal
        jobs = schedule_workers(c, raw, n=2)
        arch = archiver(c, db, raw)
        # Both workers up (a worker that starts while Redis is away stops at once, with the
        # reason: only running workers pause), and the crawl under way.
        wait_for(lambda: c["redis"].r.hlen("nianbao:workers") >= 2 and _taken(c) > 0 and applied(db) > 3, 40,
                 "both workers to be up and the crawl under way")
        c["redis"].stop()
        time.sleep(2)  # workers finish what they hold, keep the outcome, take nothing new
        for node, job in jobs:
            assert any(j["id"] == job for j in node.jobs()["running"]), "a worker gave up while Redis was away"
        c["redis"].start()
        code, out = finish(arch, timeout=80, frontier=c['redis'].url)
        assert code == 1, out
        wait_jobs_done(c, jobs)
    finally:
        if arch is not None and arch.poll() is None:  # a failed assertion above: no archiver left behind
            arch.kill()
            arch.wait()
        for p in c["portals"]:
            p.delay = 0.0
        if c["redis"].proc.poll() is not None:
            c["redis"].start()
    assert_same_archive(db, c["single"])
    logs = "".join(node.job_log(job) for node, job in jobs)
    assert "Redis unavailable" in logs and "Redis is back" in logs
    rejected = [json.loads(x) for x in c["redis"].r.lrange("nianbao:items:rejected", 0, -1)]
    assert len(rejected) == 1 and "not a message" in rejected[0]["message"], rejected
    reliability("Redis stopped and restarted mid-crawl", "workers pause and resume, nothing lost; a message the "
                "archiver cannot read is set aside with the reason",
                "workers logged the pause and the resume, archive equal to the one-machine crawl; 1 bad message "
                "in nianbao:items:rejected", group="fault")


def test_due_spring_weekly_otherwise_monthly_with_site_override():
    sites = [{"name": "a"}, {"name": "b", "schedule": "daily"}, {"name": "c", "schedule": {"spring": "never"}},
             {"name": "d", "schedule": "never"}, {"name": "e"}]
    jan = datetime(2027, 1, 20, 3, tzinfo=timezone.utc)
    six_days = "2027-01-14T03:00:00+00:00"
    eight_days = "2027-01-12T03:00:00+00:00"
    seeded = {"a": eight_days, "b": six_days, "c": eight_days, "d": eight_days, "e": six_days}
    assert [s["name"] for s in seeding.due(sites, seeded, jan)] == ["a", "b"]
    jun = datetime(2027, 6, 20, 3, tzinfo=timezone.utc)
    seeded = {"a": "2027-05-30T03:00:00+00:00", "c": "2027-05-10T03:00:00+00:00", "e": "2027-05-21T03:30:00+00:00"}
    assert [s["name"] for s in seeding.due(sites, seeded, jun)] == ["b", "c", "e"]  # never seeded: due
    with pytest.raises(ValueError, match="fortnightly"):
        seeding.interval({"name": "x", "schedule": "fortnightly"}, jun)


# A worker whose raw store fills up (writes fail with ENOSPC after a byte budget, half-way
# through a file, as in tests/faults/test_store_faults.py).


def test_worker_disk_full_is_a_recorded_gap(cluster, reliability):
    """The raw store fills up under a worker: the bytes are not kept (never half a
    file), each such fetch reaches the archive as a failure through the queue, the sites
    say `partial` with the reason, and the archiver exits non-zero."""
    import hashlib

    c = cluster
    db, raw = fresh(c, "diskfull")
    seed(c, db)
    worker = subprocess.Popen([sys.executable, "-c", RAW_STORE_FULL, "crawl", "--frontier", c["redis"].url,
                               "--db", str(db), "--raw", str(raw), "--fast", "--idle-exit", "1",
                               "-s", "NIANBAO_FRONTIER_POLL=0.2"],
                              env={**os.environ, "NIANBAO_TEST_RAW_BUDGET": "40000"},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    code, out = finish(archiver(c, db, raw), timeout=80, frontier=c["redis"].url)
    worker.communicate(timeout=30)
    assert code == 1, out
    full = rows(db, "SELECT url FROM fetches WHERE error LIKE 'not stored: No space left on device%'")
    assert full, out
    reasons = [r for r, in rows(db, "SELECT reason FROM sites WHERE status = 'partial'")]
    assert any("No space left" in r for r in reasons), reasons
    assert not list(raw.rglob("*.tmp*"))  # no half file left behind
    docs = rows(db, "SELECT sha256 FROM documents")
    for sha, in docs:
        p = raw / sha[:2] / sha[2:4] / sha
        assert hashlib.sha256(p.read_bytes()).hexdigest() == sha
    reliability("raw store full under a frontier worker", "no half-written raw file; the fetch reaches the "
                "archive as a failure through the queue; sites partial; non-zero exit",
                f"{len(docs)} documents whole, {len(full)} fetches 'No space left on device', "
                f"{len(reasons)} site(s) partial, archiver exit {code}", group="fault")
