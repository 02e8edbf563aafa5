"""WeChat webhook figures over real HTTP on 127.0.0.1: the time from request to passive reply
for every dev question (plain and safe mode), reply sizes, how many replies needed more than one
page, and how many missed the time budget.

    python -m bench.wechat [--index data/index] [--budget 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

from bot.channels.wechat import protocol as wx
from bot.channels.wechat.server import Conversations, create_app, warm_up
from bot.config import Settings
from bot.service import Service

TOKEN = "bench-token"
KEY, APPID = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR", "wx49f0ab532d5d035a"
DEV = Path(__file__).resolve().parent.parent / "tests" / "data" / "dev.jsonl"


def message(question: str, reader: int, msg_id: int) -> str:
    return wx.build_xml(
        {
            "ToUserName": "gh_bench",
            "FromUserName": f"o_bench_{reader}",
            "CreateTime": str(int(time.time())),
            "MsgType": "text",
            "Content": question,
            "MsgId": str(msg_id),
        }
    )


def signed(safe: wx.SafeMode | None, xml: str) -> tuple[dict[str, str], str]:
    stamp, nonce = str(int(time.time())), "42"
    query = {"signature": wx.signature(TOKEN, stamp, nonce), "timestamp": stamp, "nonce": nonce}
    if safe is None:
        return query, xml
    encrypted = safe.encrypt(xml)
    query |= {"encrypt_type": "aes", "msg_signature": wx.signature(TOKEN, stamp, nonce, encrypted)}
    return query, wx.build_xml({"ToUserName": "gh_bench", "Encrypt": encrypted})


def content(safe: wx.SafeMode | None, body: str) -> str:
    if body == wx.SUCCESS:
        return body
    fields = wx.parse_xml(body.encode("utf-8"))
    if safe is not None:
        fields = wx.parse_xml(safe.decrypt(fields["Encrypt"]))
    return fields["Content"]


async def send(session, url, safe, sent, reader, msg_id) -> tuple[float, str]:
    query, body = signed(safe, message(sent, reader, msg_id))
    started = time.perf_counter()
    async with session.post(url, params=query, data=body) as response:
        reply = content(safe, await response.text())
    return time.perf_counter() - started, reply


async def run(
    service: Service,
    safe: wx.SafeMode | None,
    budget: float,
    texts: list[str],
    first_id: int,
    at_once: bool = False,
) -> list[tuple[float, str]]:
    """Reader n sends texts[n] with MsgId first_id + n (one after another, or all at once);
    (seconds, reply) for each."""
    runner = web.AppRunner(create_app(Conversations(service, budget), TOKEN, safe))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/wechat"  # type: ignore[union-attr]
    async with aiohttp.ClientSession() as session:
        calls = [send(session, url, safe, t, n, first_id + n) for n, t in enumerate(texts)]
        rows = await asyncio.gather(*calls) if at_once else [await call for call in calls]
    await runner.cleanup()
    return list(rows)


def report(label: str, rows: list[tuple[float, str]]) -> None:
    times = sorted(t * 1000 for t, _ in rows)
    sizes = [wx.utf8_len(reply) for _, reply in rows if reply != wx.SUCCESS]
    paged = sum("“more”" in r[-60:] or "“更多”" in r[-60:] for _, r in rows)
    missed = sum(reply == wx.SUCCESS for _, reply in rows)
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    print(
        f"{label}: n={len(rows)} reply ms p50={statistics.median(times):.0f} "
        f"p95={p95:.0f} max={times[-1]:.0f}; reply bytes max={max(sizes, default=0)} "
        f"mean={statistics.mean(sizes or [0]):.0f}; multi-page={paged}; over budget={missed}"
    )


def main() -> None:
    from bot.cli import open_service

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=Path("data/index"))
    parser.add_argument("--budget", type=float, default=4.0)
    args = parser.parse_args()
    questions = [json.loads(line)["question"] for line in DEV.read_text("utf-8").splitlines()]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(index_dir=args.index, state_path=Path(tmp) / "state.db")
        service = open_service(settings)
        started = time.perf_counter()
        warm_up(service)
        print(f"warm-up (embedder load + one question): {time.perf_counter() - started:.1f}s")
        safe = wx.SafeMode(KEY, APPID)
        runs = [
            ("questions, plain", None, questions, 0),
            ("retries (same MsgId)", None, questions, 0),
            ("来源 after each answer", None, ["来源"] * len(questions), 1000),
            ("questions, safe mode", safe, questions, 2000),
        ]
        for label, mode, texts, first_id in runs:
            report(label, asyncio.run(run(service, mode, args.budget, texts, first_id)))
        burst = asyncio.run(run(service, None, args.budget, questions, 3000, at_once=True))
        report(f"{len(questions)} questions at once (replies over budget come later)", burst)


if __name__ == "__main__":
    main()
