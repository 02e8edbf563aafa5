"""`essaybot` commands, the composition root: open things, call one function, print,
translate errors."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from bot import logs
from bot.config import Settings, load_settings
from bot.render import plain_blocks
from bot.service import Service
from bot.state import StateStore
from index import layout, vectors
from index.errors import EssayBotError, QuestionError

logger = logging.getLogger(__name__)


class FriendlyGroup(click.Group):
    """Turns EssayBotError anywhere below into one line on stderr and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EssayBotError as exc:
            raise click.ClickException(str(exc)) from exc


def settings_from(ctx: click.Context, **overrides: Any) -> Settings:
    base: Settings = ctx.obj
    return base.with_overrides(**overrides)


def open_service(settings: Settings) -> Service:
    from index.embedders import create_embedder
    from index.retriever import LiveRetriever

    generation = layout.current_generation(settings.index_dir)
    spec = settings.embedder or layout.read_manifest(generation).embedder
    embedder = create_embedder(spec, cache_dir=settings.cache_dir)
    retriever = LiveRetriever(settings.index_dir, embedder)
    state = StateStore(settings.state_path, settings.state_ttl_seconds)
    reranker = None
    if settings.reranker:
        from index.reranker import create_reranker

        reranker = create_reranker(settings.reranker, settings.reranker_top)
    return Service(retriever, state, max_chars=settings.max_question_chars, reranker=reranker)


index_option = click.option(
    "--index",
    "index_dir",
    type=click.Path(path_type=Path),
    help="Index directory [env ESSAYBOT_INDEX_DIR; default data/index].",
)
reranker_option = click.option(
    "--reranker",
    help="Re-score the top passages with a sentence-transformers CrossEncoder: st:PATH-OR-NAME "
    "(fetched on first use unless HF_HUB_OFFLINE is set; needs the st extra) "
    "[env ESSAYBOT_RERANKER; default: off].",
)
embedder_option = click.option(
    "--embedder",
    help="Embedder: use+e5 (default), use, e5, hash, st:PATH-OR-NAME, st:minilm "
    "[env ESSAYBOT_EMBEDDER; when asking: the one the index was built with].",
)


@click.group(cls=FriendlyGroup)
@click.option("-v", "--verbose", is_flag=True, help="Log progress at INFO level to stderr.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """essaybot: ask questions about a collection of essays; every answer is verbatim quotes."""
    logs.configure(verbose)
    ctx.obj = load_settings()


@cli.group("index")
def index_group() -> None:
    """Build the searchable index over the essays."""


@index_group.command("build")
@click.option(
    "--corpus",
    "corpus_dir",
    type=click.Path(path_type=Path),
    help="Directory of essay .md files [env ESSAYBOT_CORPUS_DIR; default corpus].",
)
@index_option
@embedder_option
@click.option("--rebuild", is_flag=True, help="Embed every chunk again instead of reusing vectors.")
@click.option(
    "--vector-index",
    type=click.Choice(vectors.KINDS),
    default="auto",
    show_default=True,
    help="FAISS index type: auto is exact (flat) for small corpora, HNSW for large ones.",
)
@click.pass_context
def index_build(
    ctx: click.Context,
    corpus_dir: Path | None,
    index_dir: Path | None,
    embedder: str | None,
    rebuild: bool,
    vector_index: str,
) -> None:
    """Index every essay in the corpus directory (incremental: unchanged chunks are reused).

    A malformed essay file (no front matter, missing id/title/lang, duplicate id, not UTF-8)
    fails the build with a message naming the file; the previous index stays in use, so
    nothing already indexed is lost. A translation (NAME.en.md / NAME.zh.md, front matter
    translation_of, lang, translator) that does not line up with its essay is left out with
    one line on stderr naming the file; the essays build without it. So is a reader question
    (cues/ESSAY-ID.jsonl, one {"paragraph": N, "question": "..."} per line) that names no
    paragraph of its essay, or a malformed unanswered question (unanswered/ESSAY-ID.jsonl,
    one {"question": "...", "why": "..."} per line), naming file:line. The new index is
    swapped in atomically when complete.
    """
    from index.builder import build_index
    from index.embedders import DEFAULT_EMBEDDER, create_embedder

    s = settings_from(ctx, corpus_dir=corpus_dir, index_dir=index_dir, embedder=embedder)
    report = build_index(
        s.corpus_dir,
        s.index_dir,
        create_embedder(s.embedder or DEFAULT_EMBEDDER, cache_dir=s.cache_dir),
        rebuild=rebuild,
        vector_index=vector_index,
        max_essay_bytes=s.max_essay_bytes,
    )
    for problem in report.skipped:
        click.echo(f"Translation left out: {problem}", err=True)
    for problem in report.cues_skipped:
        click.echo(f"Reader question left out: {problem}", err=True)
    click.echo(
        f"Indexed {report.essays} essays, {report.translations} translations, "
        f"{report.cues} reader questions and {report.unanswered} unanswered ones, "
        f"{report.chunks} chunks ({report.units} vectors with their sentences, translations "
        f"and reader questions): {report.embedded} embedded, "
        f"{report.reused} reused, {report.removed} removed. ({s.index_dir})"
    )


def _questions(question: str) -> Iterator[str]:
    if question == "-":  # bytes that are not UTF-8 become U+FFFD rather than a crash
        stdin = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
        yield from (line.rstrip("\r\n") for line in stdin)
    else:
        yield question


def _json_line(service: Service, question: str) -> str:
    try:
        payload = service.ask(question).to_json()
    except QuestionError as exc:
        payload = {"question": question, "status": "error", "error": str(exc)}
    return json_line(payload)


# Characters that str.splitlines() and some JSON-lines readers take as line breaks.
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def json_line(payload: object) -> str:
    """One line of JSON, readable (not ASCII-escaped) but safe to split on any line break."""
    return json.dumps(payload, ensure_ascii=False).translate(_LINE_BREAKS)


@cli.command()
@click.argument("question")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON object; with QUESTION '-', one per stdin line, in order.",
)
@index_option
@embedder_option
@reranker_option
@click.pass_context
def ask(
    ctx: click.Context,
    question: str,
    as_json: bool,
    index_dir: Path | None,
    embedder: str | None,
    reranker: str | None,
) -> None:
    """Answer QUESTION with quotes from the essays ('-' reads questions from stdin)."""
    s = settings_from(ctx, index_dir=index_dir, embedder=embedder, reranker=reranker)
    service = open_service(s)
    for q in _questions(question):
        if as_json:
            click.echo(_json_line(service, q))
        else:
            click.echo("\n\n".join(plain_blocks(service.ask(q))))


@cli.command()
@index_option
@embedder_option
@reranker_option
@click.pass_context
def chat(
    ctx: click.Context, index_dir: Path | None, embedder: str | None, reranker: str | None
) -> None:
    """Chat in the terminal: /source [N], /essays, /forget, /help; Ctrl-D to leave."""
    from bot.channels.terminal import run_chat

    s = settings_from(ctx, index_dir=index_dir, embedder=embedder, reranker=reranker)
    run_chat(open_service(s))


@cli.command("eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--split",
    type=click.Choice(["tune", "test"]),
    help="Only the questions of this half of the bank (their 'split' field).",
)
@index_option
@embedder_option
@reranker_option
@click.pass_context
def eval_command(
    ctx: click.Context,
    file: Path,
    as_json: bool,
    split: str | None,
    index_dir: Path | None,
    embedder: str | None,
    reranker: str | None,
) -> None:
    """Score answers to the questions in FILE (questions.jsonl format): recall@1/3 of
    answered and of answered+related, by direction, across languages and within one, and by
    kind; out-of-scope answered and quoted; filler, quotes and characters per answer;
    translations carried; fidelity."""
    from bot.evaluate import evaluate, format_report

    s = settings_from(ctx, index_dir=index_dir, embedder=embedder, reranker=reranker)
    service = open_service(s)
    rows = [
        json.loads(line) for line in file.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    rows = [row for row in rows if split is None or row.get("split") == split]
    answers = [service.ask(row["question"]) for row in rows]
    current = service.retriever.get()
    report = evaluate(rows, answers, current.essays, current.translations)
    click.echo(json.dumps(report, indent=2) if as_json else format_report(report))


@cli.command()
@click.option(
    "--webhook", "webhook_url", help="Run a webhook at this https:// URL instead of polling."
)
@click.option(
    "--listen", default="0.0.0.0", show_default=True, help="Webhook: address to listen on."
)
@click.option("--port", default=8443, show_default=True, help="Webhook: port to listen on.")
@index_option
@reranker_option
@click.pass_context
def telegram(
    ctx: click.Context,
    webhook_url: str | None,
    listen: str,
    port: int,
    index_dir: Path | None,
    reranker: str | None,
) -> None:
    """Run the Telegram bot (token from ESSAYBOT_TELEGRAM_TOKEN); polling unless --webhook."""
    from functools import partial

    from bot.channels.telegram import app as tg
    from bot.channels.telegram.handlers import TelegramBot
    from bot.config import check_token
    from index.builder import build_index

    s = settings_from(ctx, index_dir=index_dir, reranker=reranker)
    token = check_token(s.telegram_token)
    service = open_service(s)
    reindex = partial(
        build_index,
        s.corpus_dir,
        s.index_dir,
        service.retriever.embedder,
        progress=False,
        max_essay_bytes=s.max_essay_bytes,
    )
    bot = TelegramBot(service, reindex, s.admin_ids, s.rate_limit_per_minute)
    app = tg.build_application(bot, token, s.telegram_base_url)
    if webhook_url:
        secret = s.telegram_webhook_secret
        tg.run_webhook(app, s.telegram_base_url, webhook_url, listen, port, secret)
    else:
        tg.run_polling(app, s.telegram_base_url)


@cli.command()
@index_option
@click.pass_context
def health(ctx: click.Context, index_dir: Path | None) -> None:
    """Check that the index opens and reads whole and the state file is writable (the
    container HEALTHCHECK); exit status 1 with the problem otherwise."""
    from index.store import Store

    s = settings_from(ctx, index_dir=index_dir)
    manifest = layout.read_manifest(layout.current_generation(s.index_dir))
    store = Store(layout.current_generation(s.index_dir) / layout.DB_FILE)
    try:
        store.check_integrity()  # a damaged file fails here, not just a missing one
    finally:
        store.close()
    StateStore(s.state_path, s.state_ttl_seconds).close()
    click.echo(f"ok: {manifest.essays} essays, {manifest.chunks} chunks ({manifest.embedder})")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--path", "url_path", default="/wechat", show_default=True, help="URL path of the webhook."
)
@index_option
@embedder_option
@reranker_option
@click.pass_context
def wechat(
    ctx: click.Context,
    host: str,
    port: int,
    url_path: str,
    index_dir: Path | None,
    embedder: str | None,
    reranker: str | None,
) -> None:
    """Serve the WeChat Official Account webhook: ESSAYBOT_WECHAT_TOKEN, and for safe mode
    ESSAYBOT_WECHAT_AES_KEY and ESSAYBOT_WECHAT_APPID, as entered in the account's console."""
    from bot.channels.wechat.protocol import credentials
    from bot.channels.wechat.server import serve

    s = settings_from(ctx, index_dir=index_dir, embedder=embedder, reranker=reranker)
    token, safe = credentials(s.wechat_token, s.wechat_aes_key, s.wechat_appid)
    service = open_service(s)
    serve(
        service,
        token,
        safe,
        host=host,
        port=port,
        path=url_path,
        budget=s.wechat_budget_seconds,
        plaintext_too=s.wechat_compatible,
    )


@cli.command()
@click.option("--host", help="Address to listen on [env ESSAYBOT_WEB_HOST; default 127.0.0.1].")
@click.option("--port", type=int, help="Port to listen on [env ESSAYBOT_WEB_PORT; default 8080].")
@index_option
@embedder_option
@reranker_option
@click.pass_context
def web(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    index_dir: Path | None,
    embedder: str | None,
    reranker: str | None,
) -> None:
    """Serve the web chat page and its JSON API: GET /, POST /api/ask, GET /api/essays,
    GET /api/source, GET /healthz."""
    from bot.channels.web.server import serve

    s = settings_from(
        ctx, index_dir=index_dir, embedder=embedder, reranker=reranker, web_host=host,
        web_port=port,
    )  # fmt: skip
    serve(open_service(s), host=s.web_host, port=s.web_port, per_minute=s.rate_limit_per_minute)


def main() -> None:
    cli(prog_name="essaybot")
