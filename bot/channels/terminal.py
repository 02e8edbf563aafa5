"""The terminal chat: the same replies the bots send, read and written on stdin/stdout."""

from __future__ import annotations

import click

from bot import messages
from bot.render import TERMINAL, plain_blocks, plain_source
from bot.service import Service
from index.errors import QuestionError

CHAT_ID = "terminal"


def reply(service: Service, line: str) -> str:
    """The reply to one line typed in the terminal chat."""
    command, _, arg = line.strip().partition(" ")
    if command == "/help":
        return messages.text("help", "en")
    if command == "/essays":
        return "\n".join(f"• {e.title}" for e in service.essays())
    if command == "/forget":
        service.forget(CHAT_ID)
        return messages.text("forgotten", "en")
    if command == "/source":
        return source_reply(service, arg)
    try:
        answer = service.ask(line, CHAT_ID)
    except QuestionError as exc:
        return str(exc)
    hint = [messages.text("source_hint", answer.lang)] if answer.quotes else []
    return "\n\n".join(plain_blocks(answer, TERMINAL) + hint)


def source_reply(service: Service, arg: str) -> str:
    n = int(arg) if arg.strip().isdigit() else None
    found = service.sources(CHAT_ID, n)
    if found.message:
        return found.message
    return "\n\n".join(plain_source(s, found.lang, TERMINAL) for s in found.sources)


def run_chat(service: Service) -> None:
    click.echo(messages.text("welcome") + "\n\n" + messages.text("help", "en") + "\n")
    while True:
        try:
            line = click.prompt("?", prompt_suffix=" ", default="", show_default=False)
        except (EOFError, click.Abort):
            click.echo()
            return
        if line.strip():
            click.echo(reply(service, line) + "\n")
