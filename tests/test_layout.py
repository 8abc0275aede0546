"""One import name. The folders crawler/, pipeline/ and devkit/ install as
nianbao.crawler, nianbao.pipeline and nianbao.devkit, in the editable install and in a
built wheel alike; no generic top-level name is importable; the imports run the way
pyproject.toml's import-linter contracts say."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE_DIRS = {"crawler": "nianbao/crawler", "pipeline": "nianbao/pipeline", "devkit": "nianbao/devkit",
               "nianbao": "nianbao"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The built wheel, unpacked: what `pip install nianbao` puts in site-packages."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "-o", str(out), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    (whl,) = out.glob("nianbao-*.whl")
    site = out / "site"
    with zipfile.ZipFile(whl) as z:
        z.extractall(site)
    return site


def _py(code: str, *, cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_the_wheel_holds_every_source_file_under_nianbao(wheel):
    for src, dest in SOURCE_DIRS.items():
        for f in (ROOT / src).rglob("*"):
            if f.is_file() and f.suffix in (".py", ".html", ".css") and "__pycache__" not in f.parts:
                assert (wheel / dest / f.relative_to(ROOT / src)).is_file(), f"{f} is not in the wheel"
    assert not any((wheel / name).exists() for name in ("crawler", "pipeline", "devkit", "testkit", "tests"))


def test_every_module_of_the_wheel_imports(wheel, tmp_path):
    code = ("import importlib, pkgutil, nianbao\n"
            f"assert nianbao.__file__.startswith({str(wheel)!r}), nianbao.__file__\n"
            "names = [m.name for m in pkgutil.walk_packages(nianbao.__path__, 'nianbao.')]\n"
            "for n in names: importlib.import_module(n)\n"
            "print(len(names))")
    p = _py(code, cwd=tmp_path, pythonpath=wheel)
    assert p.returncode == 0, p.stderr
    assert int(p.stdout) > 50


def test_imports_run_one_way(wheel, tmp_path):
    """lint-imports reads the contracts from pyproject.toml and walks the installed tree."""
    env = dict(os.environ, PYTHONPATH=str(wheel))
    p = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--config", str(ROOT / "pyproject.toml")],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout[-3000:]
    assert "0 broken" in p.stdout


def test_no_generic_top_level_name_is_importable(tmp_path):
    code = ("import importlib.util\n"
            "print([n for n in ('pipeline', 'crawler', 'testkit', 'devkit') if importlib.util.find_spec(n)])")
    p = _py(code, cwd=tmp_path)
    assert p.returncode == 0 and p.stdout.strip() == "[]", p.stdout + p.stderr


def test_a_folder_with_its_own_pipeline_package_does_not_break_the_cli(tmp_path, samples_dir):
    """`nianbao demo` and the tests spawn `python -m nianbao …`: a user's own pipeline/
    or crawler/ package in the working folder must not be picked up."""
    for name in ("pipeline", "crawler"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("raise ImportError('the wrong package')\n")
    p = subprocess.run([sys.executable, "-m", "nianbao", "parse", str(samples_dir / "shanghai-bgt-2019.html")],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith(("ok:", "figures_inconsistent:"))


def test_the_editable_install_maps_the_design_card_folders():
    import nianbao.crawler
    import nianbao.devkit
    import nianbao.pipeline

    assert Path(nianbao.crawler.__file__).parent == ROOT / "crawler"
    assert Path(nianbao.pipeline.__file__).parent == ROOT / "pipeline"
    assert Path(nianbao.devkit.__file__).parent == ROOT / "devkit"


def test_site_configs_live_with_the_user_not_in_the_package():
    from nianbao.crawler import config

    assert not list((ROOT / "crawler").rglob("*.yaml"))
    assert config.default_dir("/srv/nianbao/archive.db") == Path("/srv/nianbao/sites")


def test_help_is_dash_h_everywhere():
    for cmd in (["serve", "-h"], ["export", "-h"], ["crawl", "-h"], ["sites", "add", "-h"], ["-h"]):
        p = subprocess.run([sys.executable, "-m", "nianbao", *cmd], capture_output=True, text=True, timeout=60)
        assert p.returncode == 0 and "Usage:" in p.stdout, (cmd, p.stderr)


def _words_in(words):
    """text_of(box) for lattice_to_grid from words placed at points, read top-down."""
    def text_of(box):
        x0, y0, x1, y1 = box
        return " ".join(w for x, y, w in sorted(words, key=lambda t: (t[1], t[0])) if x0 <= x < x1 and y0 <= y < y1)
    return text_of


def test_a_rule_lost_between_two_figures_is_put_back():
    """A scan's broken rule merges two cells: 「1 0」 across two columns, 「0 0」 down two
    rows, 「2810 793」 over two rows of a wide value cell. Each figure stands alone in
    a lattice position: the cell is split there, each part with its box. One figure in a
    spanning cell (「550」 under a 3-column header), two figures in one position, and
    text that is no figure stay whole."""
    from nianbao.pipeline.extract.pdf_layout import lattice_to_grid

    xs, ys = [0, 100, 150, 200, 250], [0, 20, 40, 60]
    label = [(0, 0, 100, 20), (0, 20, 100, 40), (0, 40, 100, 60)]

    def grid(cells, words):
        g = lattice_to_grid(label + cells, _words_in(words), page=1, min_rows=1)
        return [[(c.text, c.rowspan, c.colspan, c.source["bbox"]) for c in row] for row in g.rows]

    # 「1 0」: columns 1–2 of row 0 merged
    rows = grid([(100, 0, 200, 20), (200, 0, 250, 20), (100, 20, 150, 40), (150, 20, 200, 40), (200, 20, 250, 40),
                 (100, 40, 250, 60)], [(120, 10, "1"), (170, 10, "0"), (220, 10, "5"), (120, 50, "550")])
    assert [r[:2] for r in rows[0][1:]] == [("1", 1), ("0", 1), ("5", 1)]
    assert rows[0][1][3] == [100, 0, 150, 20] and rows[0][2][3] == [150, 0, 200, 20]
    assert [c[:3] for c in rows[2][1:]] == [("550", 1, 3)]  # one figure: the cell as printed
    # 「0 0」 down two rows; 「2810 793」 over two rows and three columns
    rows = grid([(100, 0, 150, 40), (150, 0, 250, 40), (100, 40, 250, 60)],
                [(120, 10, "0"), (120, 30, "0"), (160, 10, "2810"), (230, 30, "793")])
    assert [c[:3] for c in rows[0][1:]] == [("0", 1, 1), ("2810", 1, 1)]
    assert [c[:3] for c in rows[1][1:]] == [("0", 1, 1), ("793", 1, 1)]
    assert rows[1][2][3] == [150, 20, 250, 40]
    # stay whole: two figures in one position, a label, a figure and a label
    for words in ([(120, 10, "1"), (130, 10, "0")], [(120, 10, "行政"), (170, 10, "处罚")], [(120, 10, "1"), (170, 10, "件")]):
        rows = grid([(100, 0, 200, 20), (200, 0, 250, 20), (100, 20, 150, 40), (150, 20, 250, 40),
                     (100, 40, 250, 60)], words)
        assert rows[0][1][2] == 2, words


def test_two_labels_whose_rule_was_lost_are_split():
    """「8.属于行政查询事项」 over 「1.本机关不掌握…」 in one cell (the rule between them lost
    in the scan), each row with figures of its own: one label per row. A block label
    with sub-labels to its right, and a label over rows without figures, stay whole."""
    from nianbao.pipeline.extract.pdf_layout import lattice_to_grid

    def grid(cells, words):
        g = lattice_to_grid(cells, _words_in(words), page=1, min_rows=1)
        return [[(c.text, c.rowspan, c.source["bbox"]) for c in row] for row in g.rows]

    cells = [(0, 0, 100, 40), (100, 0, 150, 20), (150, 0, 200, 20), (100, 20, 150, 40), (150, 20, 200, 40)]
    rows = grid(cells, [(10, 10, "8.属于行政查询事项"), (10, 30, "1.本机关不掌握"),
                        (120, 10, "1"), (170, 10, "1"), (120, 30, "28"), (170, 30, "28")])
    assert [r[0][:2] for r in rows] == [("8.属于行政查询事项", 1), ("1.本机关不掌握", 1)]
    assert rows[1][0][2] == [0, 20, 100, 40] and [c[0] for c in rows[1]] == ["1.本机关不掌握", "28", "28"]
    for words in ([(10, 10, "（三）不予"), (10, 30, "公开"), (120, 10, "1.国家秘密"), (120, 30, "2.其他"),
                   (170, 10, "1"), (170, 30, "2")],  # sub-labels to its right
                  [(10, 10, "结果"), (10, 30, "维持"), (120, 10, "复议"), (120, 30, "诉讼")],  # headers
                  [(10, 20, "（二）部分公开"), (120, 10, "1"), (120, 30, "2")]):  # text in one row only
        rows = grid(cells, words)
        assert rows[0][0][1] == 2, words
