"""The same time and memory limits hold for every parse (issue 12, item 4 and Deliver):
`nianbao parse`, `ingest` and `reparse` (and `run`, through the same parse_documents),
configured by options or environment, defaults stated in --help.

Memory is tested with a sparse file: 450 MB of zeros that cost no disk but must be
read into memory, past a 400 MB address-space limit (a warmed worker maps ~250 MB)."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time

import pytest

from nianbao.pipeline import limits as L

NIANBAO = [sys.executable, "-m", "nianbao"]
REPORT = ("某某县人民政府2023年政府信息公开工作年度报告\n一、总体情况\n2023年，本县深入推进政务公开。\n"
          "五、存在的主要问题及改进情况\n公开质量仍需提高。\n六、其他需要报告的事项\n本年度未收取信息处理费。\n")


def nianbao(*args, env=None, timeout=180):
    return subprocess.run([*NIANBAO, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "COLUMNS": "200", **(env or {})})


def sparse(path, mb=450):
    with open(path, "wb") as f:
        f.truncate(mb * 1024 * 1024)
    return path


def test_defaults_are_stated_and_configurable(monkeypatch):
    assert L.Limits() == L.Limits.from_env(env={}) == L.Limits(L.DEFAULT_TIME_S, L.DEFAULT_MEMORY_MB)
    assert L.Limits.from_env(env={L.ENV_TIME: "7.5", L.ENV_MEMORY: "300"}) == L.Limits(7.5, 300)
    assert L.Limits.from_env(3, 0, env={L.ENV_TIME: "7.5"}) == L.Limits(3, 0)
    # OCR on: a bigger default (the engine maps ~1.4 GB), an explicit value still wins.
    assert L.Limits.from_env(env={"NIANBAO_OCR": "1"}).memory_mb == L.DEFAULT_OCR_MEMORY_MB > L.DEFAULT_MEMORY_MB
    assert L.Limits.from_env(env={"NIANBAO_OCR": "1", L.ENV_MEMORY: "900"}).memory_mb == 900
    # and more time: a scanned page costs seconds of recognition, a 30-page scan minutes.
    assert L.Limits.from_env(env={"NIANBAO_OCR": "1"}).time_s == L.DEFAULT_OCR_TIME_S > L.DEFAULT_TIME_S
    assert L.Limits.from_env(env={"NIANBAO_OCR": "1", L.ENV_TIME: "50"}).time_s == 50
    with pytest.raises(ValueError):
        L.Limits.from_env(-1)
    # The commands' options leave the OCR defaults to from_env (a fixed option default would override them).
    from nianbao.cli import _limits
    monkeypatch.setenv("NIANBAO_OCR", "1")
    monkeypatch.delenv(L.ENV_TIME, raising=False)
    monkeypatch.delenv(L.ENV_MEMORY, raising=False)
    assert _limits(None, None) == L.Limits(L.DEFAULT_OCR_TIME_S, L.DEFAULT_OCR_MEMORY_MB)
    assert _limits(30, None) == L.Limits(30, L.DEFAULT_OCR_MEMORY_MB)
    for cmd in ("parse", "ingest", "reparse", "run"):
        out = " ".join(nianbao(cmd, "--help").stdout.split())
        assert "NIANBAO_PARSE_TIMEOUT" in out and "NIANBAO_PARSE_MEMORY_MB" in out, cmd
        assert "default: (120; 600 with NIANBAO_OCR=1)" in out, cmd
        assert "default: (2048; 3072 with NIANBAO_OCR=1)" in out, cmd


def test_parse_refuses_a_fifo_without_hanging(tmp_path, reliability):
    fifo = tmp_path / "report.pdf"
    os.mkfifo(fifo)
    t0 = time.monotonic()
    proc = nianbao("parse", fifo, "--json", timeout=60)  # before: blocked for ever in read()
    took = time.monotonic() - t0
    assert proc.returncode == 1
    out = json.loads(proc.stdout)
    assert out["status"] == "failed" and "FIFO" in out["reason"]
    reliability("nianbao parse on a FIFO", "refused before opening: failed, exit 1",
                f"{out['status']}: {out['reason']} in {took:.1f} s", group="parse")


def test_parse_time_limit(tmp_path, reliability):
    f = tmp_path / "big.txt"
    f.write_text(REPORT + "\n".join(f"第{i}行\t{i}\t{i * 2}" for i in range(200_000)), encoding="utf-8")
    proc = nianbao("parse", f, "--timeout", "0.5")
    assert proc.returncode == 1, proc.stdout
    assert "longer than the 0.5 s limit" in proc.stdout
    reliability("nianbao parse past --timeout", "killed at the limit: failed naming the time limit",
                proc.stdout.strip().splitlines()[-1][:90], group="parse")


def test_parse_memory_limit_from_the_environment(tmp_path, reliability):
    f = sparse(tmp_path / "huge.pdf")
    proc = nianbao("parse", f, env={L.ENV_MEMORY: "400"})
    assert proc.returncode == 1
    assert "400 MB memory limit" in proc.stdout, proc.stdout
    ok = nianbao("parse", f, env={L.ENV_MEMORY: "0"})  # no limit: read, then refused for what it is
    assert "memory limit" not in ok.stdout and "unrecognised" in ok.stdout, ok.stdout
    reliability("nianbao parse of 450 MB under NIANBAO_PARSE_MEMORY_MB=400", "failed naming the memory limit",
                proc.stdout.strip().splitlines()[-1][:90], group="parse")


def test_ingest_and_reparse_apply_the_same_limits(tmp_path, reliability):
    d = tmp_path / "in"
    d.mkdir()
    sparse(d / "huge.pdf")
    (d / "report.txt").write_text(REPORT, encoding="utf-8")
    db = tmp_path / "archive.db"
    proc = nianbao("ingest", d, "--db", db, "--quiet", "--memory-mb", "400", "--workers", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    con = sqlite3.connect(db)
    q = "SELECT d.original_name, r.status, r.reason FROM reports r JOIN documents d ON d.sha256 = r.id"
    got = {n: (s, r) for n, s, r in con.execute(q)}
    assert got["huge.pdf"][0] == "failed" and "400 MB memory limit" in got["huge.pdf"][1]
    assert got["report.txt"][0] == "ok"
    con.close()
    proc = nianbao("reparse", "--db", db, "--quiet", env={L.ENV_MEMORY: "400", L.ENV_TIME: "60"})
    assert proc.returncode == 0, proc.stderr
    assert "400 MB memory limit" in proc.stdout
    proc = nianbao("reparse", "--db", db, "--quiet", "--memory-mb", "0")
    con = sqlite3.connect(db)
    got = {n: (s, r) for n, s, r in con.execute(q)}
    assert "memory limit" not in got["huge.pdf"][1] and got["report.txt"][0] == "ok"
    reliability("ingest and reparse of 450 MB under a 400 MB limit", "that document failed naming the limit, "
                "the rest parsed; no limit: parsed on", f"ingest/reparse: failed (memory limit); --memory-mb 0: "
                f"{got['huge.pdf'][0]} ({got['huge.pdf'][1][:40]})", group="parse")


def test_parse_file_api_for_the_fuzzer(tmp_path):
    f = tmp_path / "r.txt"
    f.write_text(REPORT, encoding="utf-8")
    assert L.parse_file(f, L.Limits(30, 1024)).status == "ok"
    with L.pool(L.Limits(30, 1024)) as p:
        fut = p.schedule(L.parse_data, args=(REPORT.encode(), "r.txt", None, L.Limits(30, 1024)), timeout=30)
        assert L.outcome(fut, L.Limits(30, 1024)).status == "ok"
    assert L.not_a_regular_file(tmp_path) == "not a regular file: a folder"
    assert L.path_text(b"/x/\xc4\xe3.txt") == "/x/\\xc4\\xe3.txt"


def test_a_dying_worker_is_a_failed_document_naming_the_limit():
    import signal

    with L.pool(L.Limits(30, 1024)) as p:  # the worker kills itself, as the kernel's OOM killer would
        r = L.outcome(p.schedule(signal.raise_signal, args=(signal.SIGKILL,), timeout=30), L.Limits(30, 1024), "pdf")
    assert r.status == "failed" and "SIGKILL" in r.reason and "1024 MB memory limit" in r.reason


def test_a_worker_out_of_memory_is_replaced_before_the_next_document(tmp_path):
    """After a document that ran out of memory the worker exits (EXIT_OUT_OF_MEMORY) and
    a fresh one takes the next document: what the failed parse allocated stays mapped,
    and in the same worker ordinary documents then failed for memory too (fuzzing: ten
    10 KB workbooks after one 180 KB workbook bomb under 1 GB)."""
    huge = sparse(tmp_path / "huge.pdf")
    ok = tmp_path / "r.txt"
    ok.write_text(REPORT, encoding="utf-8")
    limits = L.Limits(60, 400)
    with L.pool(limits, workers=1) as p:
        pids = [p.schedule(os.getpid).result()]
        bad = L.outcome(p.schedule(L.parse_path, args=(str(huge), "huge.pdf", None, limits), timeout=60), limits)
        pids.append(p.schedule(os.getpid).result())
        good = L.outcome(p.schedule(L.parse_path, args=(str(ok), "r.txt", None, limits), timeout=60), limits)
    assert bad.status == "failed" and "400 MB memory limit" in bad.reason and "replaced" in bad.reason, bad.reason
    assert pids[0] != pids[1], "the worker that ran out of memory took the next task"
    assert good.status == "ok", good.reason
