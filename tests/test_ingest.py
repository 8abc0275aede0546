"""`nianbao ingest` end to end through the real CLI: samples, idempotence, bad input.

Every bad file must end with a clear status and reason in archive.db and in the
summary, its raw bytes kept, and the rest of the batch parsed."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from nianbao.pipeline.store import RawStore, sha256

NIANBAO = [sys.executable, "-m", "nianbao"]

REPORT_TEXT = ("某某县人民政府2023年政府信息公开工作年度报告\n一、总体情况\n2023年，本县深入推进政务公开。\n"
               "五、存在的主要问题及改进情况\n公开质量仍需提高。\n六、其他需要报告的事项\n本年度未收取信息处理费。\n")


def run(*args, check=True, timeout=300):
    proc = subprocess.run([*NIANBAO, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "COLUMNS": "200"})
    if check and proc.returncode != 0:
        raise AssertionError(f"nianbao {args} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def reports(db: Path) -> dict[str, dict]:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    rows = con.execute("select d.original_name, r.* from reports r join documents d on d.sha256 = r.id").fetchall()
    return {r["original_name"]: dict(r) for r in rows}


@pytest.fixture(scope="module")
def bad_dir(tmp_path_factory, samples_dir) -> Path:
    d = tmp_path_factory.mktemp("bad")
    pdf = (samples_dir / "huaian-hongze-2023.pdf").read_bytes()
    (d / "empty.pdf").write_bytes(b"")
    (d / "random.pdf").write_bytes(os.urandom(4096))
    (d / "truncated.pdf").write_bytes(pdf[: len(pdf) // 3])
    (d / "error-page.pdf").write_bytes(b"<html><head><title>404 Not Found</title></head><body>404</body></html>")
    src = d / "src.pdf"
    src.write_bytes(pdf)
    subprocess.run(["qpdf", "--encrypt", "user", "owner", "256", "--", str(src), str(d / "encrypted.pdf")], check=True)
    subprocess.run(["qpdf", "--empty", "--pages", *[str(src)] * 60, "--", str(d / "long-300-pages.pdf")], check=True)
    src.unlink()
    gbk = ("<html><head><meta charset=\"utf-8\"><title>某某县人民政府2023年政府信息公开工作年度报告</title></head><body>"
           + "".join(f"<p>{line}</p>" for line in REPORT_TEXT.splitlines()) + "</body></html>")
    (d / "gbk-wrong-charset.html").write_bytes(gbk.encode("gbk"))
    links = "".join(f'<li><a href="/art/{i}.html">某某局{2015 + i % 9}年政府信息公开工作年度报告</a><span>2024-01-{i % 28 + 1:02d}</span></li>'
                    for i in range(30))
    (d / "list-page.html").write_text(f"<html><head><title>政府信息公开年报</title></head><body><ul>{links}</ul>"
                                      "<div class=page>共3页 下一页</div></body></html>", encoding="utf-8")
    (d / "notice.html").write_text(
        "<html><head><title>关于做好2024年政务公开工作的通知</title></head><body><p>各乡镇人民政府，县政府各部门：</p>"
        "<p>为做好2024年政务公开工作，现将有关事项通知如下。</p><p>一、提高认识</p><p>二、加强保障</p></body></html>",
        encoding="utf-8")
    return d


def test_bad_inputs_get_clear_status_and_batch_goes_on(tmp_path, bad_dir, samples_dir):
    batch = tmp_path / "batch"
    shutil.copytree(bad_dir, batch)
    shutil.copy(samples_dir / "shanghai-bgt-2019.html", batch)
    db = tmp_path / "archive.db"
    proc = run("ingest", batch, "--db", db, "--quiet")
    got = reports(db)
    assert set(got) == {p.name for p in batch.iterdir()}, "every file gets a report row"
    expect_failed = {"empty.pdf": "empty", "random.pdf": "unrecognised", "truncated.pdf": "",
                     "error-page.pdf": "", "encrypted.pdf": "encrypt"}
    for name, word in expect_failed.items():
        r = got[name]
        assert r["status"] in ("failed", "not_a_report"), (name, r["status"], r["reason"])
        assert r["reason"] and word.lower() in r["reason"].lower(), (name, r["reason"])
        assert name in proc.stdout and r["reason"][:30] in proc.stdout, "the summary names the file and why"
    assert got["empty.pdf"]["status"] == "failed" and got["encrypted.pdf"]["status"] == "failed"
    assert got["long-300-pages.pdf"]["status"] in ("figures_inconsistent", "ok", "extraction_incomplete")
    assert json.loads(got["long-300-pages.pdf"]["meta"])["pages"] == 300
    gbk = got["gbk-wrong-charset.html"]
    assert gbk["status"] == "ok" and gbk["agency"] == "某某县人民政府" and gbk["report_year"] == 2023
    assert any("charset" in w for w in json.loads(gbk["meta"]).get("warnings", []))
    assert got["list-page.html"]["status"] == "not_a_report" and got["list-page.html"]["reason"]
    assert got["notice.html"]["status"] == "not_a_report" and got["notice.html"]["reason"]
    assert got["shanghai-bgt-2019.html"]["status"] in ("ok", "figures_inconsistent")
    raw = RawStore(tmp_path / "raw")
    for f in batch.iterdir():
        assert raw.get(sha256(f.read_bytes())) == f.read_bytes(), f"raw bytes of {f.name} kept"
    assert "failed" in proc.stdout and "not a report" in proc.stdout


def test_time_limit_fails_one_document_not_the_batch(tmp_path, bad_dir, samples_dir):
    batch = tmp_path / "b"
    batch.mkdir()
    shutil.copy(bad_dir / "long-300-pages.pdf", batch)
    (batch / "report.txt").write_text(REPORT_TEXT, encoding="utf-8")
    db = tmp_path / "archive.db"
    proc = run("ingest", batch, "--db", db, "--quiet", "--timeout", "0.3", "--workers", "2")
    got = reports(db)
    assert got["long-300-pages.pdf"]["status"] == "failed"
    assert "0.3 s limit" in got["long-300-pages.pdf"]["reason"]
    assert got["report.txt"]["status"] == "ok"
    assert "limit" in proc.stdout


def test_ingest_twice_is_a_noop_and_reparse_replaces(tmp_path, samples_dir):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("huaian-hongze-2023.pdf", "shanghai-bgt-2019.html", "wuzhong-jinji-2023.txt"):
        shutil.copy(samples_dir / name, docs)
    samples_dir = docs
    db = tmp_path / "archive.db"
    first = run("ingest", samples_dir, "--db", db, "--quiet")
    assert "stored 3 new document(s), 0 already archived" in first.stdout
    con = sqlite3.connect(db)
    counts = [con.execute(f"select count(*) from {t}").fetchone()[0] for t in ("documents", "reports", "cells", "issues")]
    second = run("ingest", samples_dir, "--db", db, "--quiet")
    assert "stored 0 new document(s), 3 already archived" in second.stdout
    assert [con.execute(f"select count(*) from {t}").fetchone()[0] for t in ("documents", "reports", "cells", "issues")] == counts
    before = con.execute("select max(parsed_at) from reports").fetchone()[0]
    con.close()
    run("reparse", "--db", db, "--quiet")
    con = sqlite3.connect(db)
    assert [con.execute(f"select count(*) from {t}").fetchone()[0] for t in ("documents", "reports", "cells", "issues")] == counts
    assert con.execute("select min(parsed_at) from reports").fetchone()[0] >= before
    hongze = con.execute("select status, agency, report_year from reports where title like '%洪泽%'").fetchone()
    assert hongze == ("figures_inconsistent", "淮安市洪泽区人民政府", 2023)
    broken = con.execute("select row, lhs, rhs from issues i join reports r on r.id = i.report "
                         "where r.agency like '%洪泽%' and i.code = 't4_total' order by row").fetchall()
    assert broken == [("review", 11, 0), ("suit_after_review", 5, 0)]


def test_parse_json_is_the_public_shape(samples_dir):
    out = json.loads(run("parse", samples_dir / "shanghai-bgt-2019.html", "--json").stdout)
    for key in ("status", "reason", "agency", "report_year", "title", "templates", "sections", "cells", "issues"):
        assert key in out
    assert out["templates"] == {"2": "2019", "3": "2019", "4": "2019"}
    cell = next(c for c in out["cells"] if c["table"] == 2 and c["row"] == "procurement" and c["col"] == "amount")
    assert cell["value"] == 251000 and "251000" in cell["raw"] and cell["source"]
    assert {s["no"] for s in out["sections"]} == {1, 2, 3, 4, 5, 6}


def test_helpful_errors(tmp_path):
    proc = run("reparse", "--db", tmp_path / "none.db", check=False)
    assert proc.returncode != 0 and "nianbao ingest" in proc.stderr
    proc = run("ingest", tmp_path / "missing", check=False)
    assert proc.returncode != 0 and "does not exist" in proc.stderr
