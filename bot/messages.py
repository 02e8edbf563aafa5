"""Every fixed string a reader can see, in English and Chinese. Nothing here is about the essays."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "not_found": {
        "en": "The essays don't cover that.",
        "zh": "这些文章没有谈到这个问题。",
    },
    "closest": {"en": "Closest essays: {titles}", "zh": "最接近的文章:{titles}"},
    "related": {
        "en": "The essays may not answer this directly. The closest passages:",
        "zh": "文章里可能没有直接的答案,最接近的段落:",
    },
    "translation_label": {
        "en": "Translation — not the author's words:",
        "zh": "译文(非作者原文):",
    },
    "citation": {
        "en": "— “{title}”, paragraph {paragraph}",
        "zh": "——《{title}》第 {paragraph} 段",
    },
    "citation_span": {
        "en": "— “{title}”, paragraphs {first}–{last}",
        "zh": "——《{title}》第 {first}–{last} 段",
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
    "help_telegram": {
        "en": (
            "Under each answer, the Sources button shows where every quote comes from.\n"
            "In groups, mention me, reply to me, or use /ask QUESTION."
        ),
        "zh": (
            "每个回答下方的“来源”按钮显示每条引文的出处。\n"
            "在群组中,请 @ 我、回复我,或使用 /ask 问题。"
        ),
    },
    "sources_button": {"en": "Sources / 来源"},
    "sources_expired": {
        "en": "Sources are kept only for the latest answer in this chat. Ask again to see them.",
        "zh": "只保留本对话最新一个回答的出处。请重新提问后再查看。",
    },
    "source_usage": {
        "en": "Send /source for all quotes of the last answer, or /source N for quote N.",
        "zh": "发送 /source 查看上一个回答全部引文的出处,或 /source N 只看第 N 条。",
    },
    "slow_down": {
        "en": "You are asking faster than I can keep up with. Please wait a minute and ask again.",
        "zh": "提问太频繁了。请稍等一分钟再问。",
    },
    "admins_only": {
        "en": "Sorry, only the bot's admins can rebuild the index.",
        "zh": "抱歉,只有机器人的管理员可以重建索引。",
    },
    "reindex_started": {
        "en": "Rebuilding the index… I keep answering meanwhile.",
        "zh": "正在重建索引……期间照常回答问题。",
    },
    "reindex_running": {
        "en": "A rebuild is already running; I will report when it is done.",
        "zh": "已有一次重建正在进行,完成后会报告。",
    },
    "reindexed": {
        "en": (
            "Index rebuilt: {essays} essays, {chunks} chunks ({embedded} embedded, "
            "{reused} reused, {removed} removed). Now answering from it."
        ),
        "zh": (
            "索引已重建:{essays} 篇文章,{chunks} 个片段(新嵌入 {embedded},复用 {reused},"
            "删除 {removed})。现已使用新索引回答。"
        ),
    },
    "reindex_failed": {
        "en": "The rebuild failed; the previous index stays in use. {error}",
        "zh": "重建失败,继续使用原来的索引。{error}",
    },
    "sorry": {
        "en": (
            "Sorry, something went wrong on my side. Please try again. / "
            "抱歉,出了点问题,请再试一次。"
        ),
    },
    "command_start": {"en": "Welcome and example questions", "zh": "欢迎与示例问题"},
    "command_help": {"en": "How to ask, and the commands", "zh": "如何提问,以及所有命令"},
    "command_essays": {"en": "The list of essays", "zh": "文章列表"},
    "command_source": {
        "en": "Full citations of the last answer (/source N: quote N)",
        "zh": "上一个回答的完整出处(/source N:第 N 条)",
    },
    "command_ask": {"en": "Ask a question (in groups)", "zh": "提问(群组中使用)"},
    "command_forget": {
        "en": "Delete what I keep about this chat",
        "zh": "删除关于本对话保存的内容",
    },
    # WeChat: no slash commands there, so keywords; "更多"/"more" pages through long replies.
    "wechat_welcome": {
        "en": (
            "你好!我只用原文引语回答关于这些文章的问题,每条都注明出处。直接提问即可;"
            "发送“帮助”查看用法。\n"
            "Hi! I answer questions about these essays with the authors' own words only, each "
            "quote cited. Just ask; send “help” to see how."
        ),
    },
    "wechat_help": {
        "en": (
            "Ask me anything about the essays, in English or Chinese. Every answer is made of the "
            "authors' own words, quoted exactly, with where each quote comes from.\n"
            "source — full citations of the last answer\n"
            "more — the next part of a long reply\n"
            "help — this text"
        ),
        "zh": (
            "用中文或英文问我关于这些文章的任何问题。每个回答都只由作者的原话组成,逐字引用,并注明出处。\n"
            "来源 — 上一个回答的完整出处\n更多 — 长回复的下一部分\n帮助 — 显示本帮助"
        ),
    },
    "wechat_source_hint": {
        "en": "Reply “source” for the full citations.",
        "zh": "回复“来源”查看完整出处。",
    },
    "more_hint": {
        "en": "(Part {n} of {total}. Reply “more” for the next.)",
        "zh": "(第 {n}/{total} 部分,回复“更多”查看下一部分。)",
    },
    "no_more": {"en": "There is nothing more to show.", "zh": "没有更多内容了。"},
    "text_only": {
        "en": "I can only read text messages; please type your question. / "
        "我只能读懂文字消息,请用文字提问。",
    },
    "earlier_answer": {
        "en": "(This answers an earlier question of yours.)",
        "zh": "(这是对你之前一个问题的回答。)",
    },
    # the web page's interface
    "ask_label": {"en": "Ask about the essays", "zh": "关于这些文章提问"},
    "send": {"en": "Ask", "zh": "提问"},
    "sources": {"en": "Sources", "zh": "来源"},
    "switch_language": {"en": "中文", "zh": "English"},
    "paragraph": {"en": "paragraph {paragraph}", "zh": "第 {paragraph} 段"},
    "paragraphs": {"en": "paragraphs {first}–{last}", "zh": "第 {first}–{last} 段"},
}

WEB_TEXTS = (
    "not_found", "related", "translation_label", "essays_header", "ask_label", "send",
    "sources", "switch_language", "paragraph", "paragraphs",
)  # fmt: skip


def raw(name: str, lang: str = "en") -> str:
    """The named string in `lang`, placeholders left in (for a page that fills them)."""
    variants = TEXTS[name]
    return variants.get(lang, variants["en"])


def text(name: str, lang: str = "en", **values: object) -> str:
    """The named string in `lang` (English when there is no such translation), filled in."""
    variants = TEXTS[name]
    return variants.get(lang, variants["en"]).format(**values)
