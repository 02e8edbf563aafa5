"""The results as one table: each figure next to its floor and its target."""

from __future__ import annotations

from typing import Any

Row = tuple[str, str, str, str, str]
TARGETS = {
    "answer_ratio": 1.3,
    "cold_start_s": 2.0,
    "build_ratio": 0.9,
    "rss_mb": 500.0,
    "search_p50_ms": 10.0,
    "recall": 0.95,
    "index_mb": 2048.0,
}


def _met(ok: bool) -> str:
    return "yes" if ok else "NO"


def answer_rows(r: dict[str, Any]) -> list[Row]:
    lat, cold, mem = r["latency"], r["cold_start"], r["memory"]
    ratio = lat["answer_over_encode_p50"]
    return [
        (
            "answer latency p50 / p95",
            f"{lat['answer']['p50_ms']:.1f} / {lat['answer']['p95_ms']:.1f} ms",
            f"encode {lat['encode']['p50_ms']:.1f} / {lat['encode']['p95_ms']:.1f} ms",
            f"<= 1.3x encode (is {ratio:.2f}x)",
            _met(ratio <= TARGETS["answer_ratio"]),
        ),
        (
            "cold start: `python -m bot ask`",
            f"{cold['median_s']:.2f} s (median of {cold['runs']})",
            f"first run {cold['first_s']:.2f} s; imports {cold['import_s']:.2f} s; "
            f"torch: {'yes' if cold['imports_torch'] else 'no'}",
            "<= 2 s, no torch",
            _met(cold["median_s"] <= TARGETS["cold_start_s"] and not cold["imports_torch"]),
        ),
        (
            "resident memory (answering 40 questions)",
            f"{mem['peak_rss_mb']:.0f} MB peak",
            "",
            "<= 500 MB",
            _met(mem["peak_rss_mb"] <= TARGETS["rss_mb"]),
        ),
    ]


def throughput_rows(r: dict[str, Any]) -> list[Row]:
    single = r["throughput"][0]["answers_per_s"]
    return [
        (
            f"throughput, {t['askers']} concurrent askers",
            f"{t['answers_per_s']:.1f} answers/s",
            f"{t['answers_per_s'] / single:.2f}x one asker",
            "",
            "",
        )
        for t in r["throughput"]
    ]


def build_rows(r: dict[str, Any]) -> list[Row]:
    t = r["build"]["throughput"]
    rows = [
        (
            f"index build ({t['essays']} essays, {t['chunks']} chunks)",
            f"{t['build_chunks_per_s']:.1f} chunks/s",
            f"raw embedding {t['raw_chunks_per_s']:.1f} chunks/s",
            f">= 0.9x raw (is {t['build_over_raw']:.2f}x)",
            _met(t["build_over_raw"] >= TARGETS["build_ratio"]),
        )
    ]
    for inc in r["build"]["incremental"]:
        rows.append(
            (
                f"add 1 essay to {inc['essays']} ({inc['chunks_before']} chunks)",
                f"{inc['incremental_s']:.1f} s, embedded {inc['embedded']}",
                f"new essay: {inc['new_essay_units']} chunks + sentences",
                "only the new chunks",
                _met(inc["only_new_embedded"]),
            )
        )
    return rows


def _vector_row(count: int, kind: str, v: dict[str, Any], auto: str) -> Row:
    recall = v["recall_at_10"]
    ok = v["p50_ms"] <= TARGETS["search_p50_ms"] and recall >= TARGETS["recall"]
    ok = ok and v["memory_mb"] <= TARGETS["index_mb"]
    return (
        f"{count:,} vectors, {kind}{' (auto)' if kind == auto else ''}",
        f"p50 {v['p50_ms']:.2f} ms, recall@10 {recall:.3f}",
        f"build {v['build_s']:.0f} s, {v['memory_mb']:.0f} MB",
        "p50 <= 10 ms, recall >= 0.95, <= 2 GB",
        _met(ok),
    )


def scale_rows(r: dict[str, Any]) -> list[Row]:
    rows = []
    for s in r["scale"]:
        n, auto = s["passages"], s["auto_choice"]
        rows += [_vector_row(n, "flat", s["flat"], auto), _vector_row(n, "hnsw", s["hnsw"], auto)]
        for ef in s["hnsw"]["sweep"]:
            rows.append(
                (
                    f"  hnsw efSearch {ef['ef_search']}",
                    f"p50 {ef['p50_ms']:.2f} ms, recall@10 {ef['recall_at_10']:.3f}",
                    "",
                    "",
                    "",
                )
            )
        k = s["keyword"]
        rows.append(
            (
                f"{n:,} passages, keyword (FTS5)",
                f"p50 {k['p50_ms']:.1f} / p95 {k['p95_ms']:.1f} ms",
                f"build {k['build_s']:.0f} s, {k['db_mb']:.0f} MB",
                "",
                "",
            )
        )
    return rows


def table(r: dict[str, Any]) -> str:
    rows = answer_rows(r) + throughput_rows(r) + build_rows(r) + scale_rows(r)
    header: Row = ("measure", "figure", "next to", "target", "met")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(5)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    rule = "-+-".join("-" * w for w in widths)
    head = " | ".join(c.ljust(w) for c, w in zip(header, widths, strict=True))
    m = r["machine"]
    about = f"{m['cpus']} CPUs ({m['cpu_model']}), {m['memory_gb']} GB, Python {m['python']}"
    load = f"load average at start {m['load_average_at_start']}; total {r['total_s']:.0f} s"
    return "\n".join([about, load, "", head, rule, *lines])
