"""Answer policies shared by the channel tests."""

from __future__ import annotations

from bot.answer import Policy


def quote_everything(max_quotes: int) -> Policy:
    """Every hit `answered` and quoted, up to `max_quotes`, whatever its score or evidence: for
    the tests of replies too long for one message. A new condition on `answered` is turned off
    here, once."""
    return Policy(
        max_quotes=max_quotes,
        answer_score=-10.0,
        answer_words=0.0,
        follow_margin=99.0,
        other_margin=99.0,
        check_agreement=False,
        answer_gap=-99.0,
        quote_similarity=-99.0,
    )
