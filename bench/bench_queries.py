"""Comparison 2, queries over content: yloft's extracted columns vs the alternatives.

    .venv/bin/python bench/bench_queries.py [--quick] [--notes 10000] [--rounds 3]

Headless Chromium, one dedicated worker, the same notes (title, done, tags, rank, a
~1 KB body with one rare word) stored three ways, queried four ways:
- yloft: a Store on OPFS; the query runs on its extracted columns and FTS5 index;
- y-indexeddb 9.0.12 with its defaults (one IndexedDB database per document), warm: an
  app that loaded every document's Y.Doc once (50 at a time, before the rounds) and
  keeps them in memory; each query reads from every Y.Doc only the fields it filters and
  sorts on, as a careful JS developer would: the filter the two keys ``done`` and
  ``title`` of the ``meta`` Y.Map (never the body's text), the full-text search the
  title and the ``body`` text (the field it searches, split into words); then it
  filters/sorts in JS. No second copy of the fields is kept (such a copy, an index kept
  up to date by observers, is what yloft's extracted columns are). This is the
  baseline: it is what an app built on y-indexeddb that queries often would do, and it
  leaves out the loading;
- y-indexeddb, cold: the same query (the same fields) after reopening every document's
  database (50 at a time), as an app that does not keep its documents loaded must (the
  earlier, only, y-indexeddb figure). Listed, but never the report's headline lead: an
  app that queries often would not reopen every database each time;
- the same Yjs blobs in a plain SQLite table (same Pyodide, same OPFS storage),
  decoded at query time by Python functions registered with ``create_function``
  (samwillis' yjs-sqlite-test approach; the last decoded blob is cached so a row's
  several lookups decode it once).

Queries: ``done = 0 AND title > 'm' ORDER BY title LIMIT 50`` and a full-text search
for one rare word (matching titles, 50 at most). Every round checks that all three
return the same titles. The figure per round of yloft and of warm y-indexeddb (both
answer from memory or an open database) is the median of 20 calls; the others run once
per round. Writes bench/results/queries.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from _browser import BenchBrowser
from figures import comp

RESULTS = Path(__file__).resolve().parent / "results"
FILTER_ARG = "m"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="500 notes, 2 rounds")
    ap.add_argument("--notes", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    n, rounds = (500, 2) if args.quick else (args.notes, args.rounds)
    t_start = time.monotonic()
    setup: dict[str, Any] = {}
    samples: dict[str, dict[str, list[float]]] = {
        q: {"yloft": [], "warm": [], "yidb": [], "udf": []} for q in ("filter", "fts")
    }
    matches: dict[str, int] = {}
    with BenchBrowser() as lab:
        setup["python"] = lab.call("loadPython")
        lab.call("mount", {"name": "notes", "path": "/yloft"})
        lab.call("py", "open_store", ["/yloft/notes.db"], "/yloft")
        setup["yloft_fill"] = lab.call("py", "fill", [n])
        lab.call("mount", {"name": "udf", "path": "/udf"})
        lab.call("py", "udf_setup", ["/udf/udf.db"], "/udf")
        setup["yidb_create"] = lab.call("yidbCreate", {"prefix": "note", "n": n})
        setup["yidb_warm_load"] = lab.call("yidbWarmLoad", {"prefix": "note", "n": n})
        word = lab.call("py", "rare_word", [])
        print(f"setup done: {n} notes, rare word {word!r}", flush=True)
        for r in range(rounds):
            for kind, arg in (("filter", FILTER_ARG), ("fts", word)):
                fn = "filter_query" if kind == "filter" else "fts_query"
                ours = [lab.call("py", fn, [arg]) for _ in range(20)]
                udf = lab.call("py", "udf_filter" if kind == "filter" else "udf_fts", [arg])
                yidb = lab.call("yidbQuery", {"prefix": "note", "n": n, "kind": kind, "arg": arg})
                warm = [lab.call("yidbWarmQuery", {"kind": kind, "arg": arg}) for _ in range(20)]
                titles = ours[0]["titles"]
                others = [udf, yidb, warm[0]]
                if kind == "fts":  # yloft ranks by relevance; compare the sets
                    titles = sorted(titles)
                    for o in others:
                        o["titles"] = sorted(o["titles"])
                if not titles or any(o["titles"] != titles for o in others):
                    raise SystemExit(
                        f"{kind}: results differ or are empty:\n{titles}\n"
                        + "\n".join(str(o["titles"]) for o in others)
                    )
                matches[kind] = yidb["matches"]
                samples[kind]["yloft"].append(statistics.median(o["ms"] for o in ours))
                samples[kind]["udf"].append(udf["ms"])
                samples[kind]["yidb"].append(yidb["ms"])
                samples[kind]["warm"].append(statistics.median(w["ms"] for w in warm))
            print(f"round {r + 1}/{rounds}: "
                  + ", ".join(f"{k} {[round(v[-1], 1) for v in s.values()]}"
                              for k, s in samples.items()), flush=True)  # fmt: skip
    names = {"yloft": "yloft (extracted columns, OPFS)",
             "warm": "y-indexeddb warm (all Y.Docs in memory)",
             "yidb": "y-indexeddb cold (reopen every database)",
             "udf": "Yjs blobs decoded in SQL (UDF)"}  # fmt: skip
    how = (
        "y-indexeddb: only the fields filtered and sorted on are read, filter/sort in JS; "
        "warm = every Y.Doc already loaded (it took "
        f"{setup['yidb_warm_load']['ms'] / 1000:.1f} s once), cold = every database "
        "reopened for the query"
    )
    comparisons = [
        comp("queries.filter", f"Filter + sort + limit 50 over {n:,} notes (Chromium)", "ms",
             names["warm"], {names[k]: v for k, v in samples["filter"].items()},
             note=f"{matches['filter']:,} notes match before the limit; {how}",
             no_headline=[names["yidb"]]),
        comp("queries.fts", f"Full-text search for one word over {n:,} notes (Chromium)", "ms",
             names["warm"], {names[k]: v for k, v in samples["fts"].items()},
             note=f"{matches['fts']} notes match; {how}", no_headline=[names["yidb"]]),
    ]  # fmt: skip
    result = {"notes": n, "rounds": rounds, "setup": setup, "wall_s": time.monotonic() - t_start,
              "comparisons": comparisons}  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "queries.json").write_text(json.dumps(result, indent=1))
    for c in comparisons:
        for s in c["subjects"]:
            print(f"{c['id']:16} {s['name']:36} median {s['median']:10.2f} ms  x{s['ratio']:.3f}")


if __name__ == "__main__":
    main()
