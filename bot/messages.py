"""Every fixed string a reader can see, in English and Chinese. Nothing here is about the essays."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "not_found": {
        "en": "The essays don't cover that.",
        "zh": "这些文章没有谈到这个问题。",
    },
    "closest": {"en": "Closest essays: {titles}", "zh": "最接近的文章:{titles}"},
    "citation": {
        "en": "— “{title}”, paragraph {paragraph}",
        "zh": "——《{title}》第 {paragraph} 段",
    },
    "source_hint": {
        "en": "Send /source for the full citations.",
        "zh": "发送 /source 查看完整出处。",
    },
    "no_last_answer": {
        "en": "There is no earlier answer to show sources for. Ask a question first.",
        "zh": "还没有可以查看出处的回答。请先提一个问题。",
    },
    "no_such_quote": {
        "en": "There is no quote {n}. The last answer has {count}.",
        "zh": "没有第 {n} 条引文。上一个回答共有 {count} 条。",
    },
    "quote_gone": {
        "en": "Quote {n} is no longer in the essays (they were edited since).",
        "zh": "第 {n} 条引文已不在文章中(文章已更新)。",
    },
    "empty_question": {
        "en": "Please ask a question about the essays. / 请输入一个关于这些文章的问题。",
        "zh": "Please ask a question about the essays. / 请输入一个关于这些文章的问题。",
    },
    "too_long": {
        "en": (
            "That message is too long ({length} characters); please keep questions under {limit}."
        ),
        "zh": "消息太长({length} 个字符),请把问题控制在 {limit} 个字符以内。",
    },
    "help": {
        "en": (
            "Ask me anything about the essays, in English or Chinese. Every answer is made of the "
            "authors' own words, quoted exactly, with where each quote comes from.\n"
            "/source — full citations of the last answer (/source N: just quote N)\n"
            "/essays — the list of essays\n"
            "/forget — delete what I keep about this chat\n"
            "/help — this text"
        ),
        "zh": (
            "用中文或英文问我关于这些文章的任何问题。每个回答都只由作者的原话组成,逐字引用,并注明出处。\n"
            "/source — 上一个回答的完整出处(/source N:只看第 N 条)\n"
            "/essays — 文章列表\n/forget — 删除关于本对话保存的一切\n/help — 显示本帮助"
        ),
    },
    "welcome": {
        "en": (
            "Hi! I answer questions about a small collection of essays, with quotes only.\n"
            "你好!我只用原文引语回答关于这些文章的问题。\n\nTry / 试试:\n"
            "• Why might a good CFO not make a good CEO?\n"
            "• 钉钉 ONE 为什么会失败?"
        ),
    },
    "forgotten": {
        "en": "Done: nothing about this chat is kept any more.",
        "zh": "已删除:不再保存关于本对话的任何内容。",
    },
    "essays_header": {"en": "The essays:", "zh": "文章列表:"},
}


def text(name: str, lang: str = "en", **values: object) -> str:
    """The named string in `lang` (English when there is no such translation), filled in."""
    variants = TEXTS[name]
    return variants.get(lang, variants["en"]).format(**values)
