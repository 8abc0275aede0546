"""`nianbao cluster status`: what the frontier holds right now, read from Redis only."""
from __future__ import annotations

import json
import time

from . import frontier as fr


def status(r) -> dict:
    workers = {}
    for w, info in r.hgetall(fr.WORKERS).items():
        w = w.decode()
        d = json.loads(info)
        d["alive"] = bool(r.exists(fr.alive_key(w)))
        d["seen_ago"] = round(time.time() - d.get("seen", 0), 1)
        d["inflight"] = r.zcard(fr.inflight_key(w))
        workers[w] = d
    orphans = {}
    for key in r.scan_iter(match=fr.inflight_key("*")):
        w = key.decode().rsplit(":", 1)[1]
        if w not in workers:
            orphans[w] = r.zcard(key)
    cycles = {}
    for c in sorted(x.decode() for x in r.smembers(fr.CYCLES)):
        progress = {k.decode(): int(v) for k, v in r.hgetall(fr.progress_key(c)).items()}
        cycles[c] = {"open": int(r.get(fr.open_key(c)) or 0), "settled": r.scard(fr.settled_key(c)),
                     "pages_by_site": progress}
    return {"queued": r.zcard(fr.QUEUE), "items": r.llen(fr.ITEMS), "processing": r.llen(fr.PROCESSING),
            "rejected": r.llen(fr.REJECTED),
            "inflight": sum(w["inflight"] for w in workers.values()) + sum(orphans.values()),
            "workers": workers, "orphaned_inflight": orphans, "cycles": cycles,
            "seeded": {k.decode(): v.decode() for k, v in r.hgetall(fr.SEEDED).items()}}
