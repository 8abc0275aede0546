"""Plain text (usually text already extracted from a PDF elsewhere) → Extracted.

Tab-separated lines are what is left of tables: each run of consecutive tabbed lines
becomes one Grid. The tabs do not reliably mark empty cells (extraction drops and
merges them), so the grids say `complete_rows=False` and the interpreter never infers a
blank from a missing field.
"""
from __future__ import annotations

from nianbao.pipeline.model import MAX_COLUMNS, MAX_POSITIONS, Extracted, Grid, GridCell

from ._decode import decode_text


def extract_txt(data: bytes, name: str | None = None) -> Extracted:
    text, warnings = decode_text(data)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    tables: list[Grid] = []
    run: list[list[GridCell]] = []
    run_start = 0

    def close() -> None:
        if run:
            tables.append(Grid(rows=list(run), source={"line": run_start}, complete_rows=False))
            run.clear()

    # Fields become cells (an object each): bounded like every grid (model.py), or a
    # 2.5 MB line of tabs asks for millions of them (a MemoryError under 1 GB).
    wide = cells = 0
    for n, line in enumerate(lines, 1):
        if "\t" in line and cells < MAX_POSITIONS:
            if not run:
                run_start = n
            fields = line.split("\t", MAX_COLUMNS)
            if len(fields) > MAX_COLUMNS:
                fields, wide = fields[:MAX_COLUMNS], wide + 1
            fields = fields[:MAX_POSITIONS - cells]
            cells += len(fields)
            run.append([GridCell(text=f.strip(), source={"line": n, "cell": c}) for c, f in enumerate(fields)])
        else:
            close()
    close()
    if wide:
        warnings.append(f"{wide} tab-separated line(s) with more than {MAX_COLUMNS} fields: cut at {MAX_COLUMNS}")
    if cells >= MAX_POSITIONS:
        warnings.append(f"tab-separated lines past {MAX_POSITIONS:,} fields not read as tables")
    body = "\n".join(line.replace("\t", " ").rstrip() for line in lines).strip()
    title = next((ln.strip() for ln in lines if ln.strip()), None)
    return Extracted(container="txt", text=body, tables=tables, title=title,
                     meta={"name": name} if name else {}, warnings=warnings)
