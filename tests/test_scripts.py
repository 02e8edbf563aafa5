"""The tuning scripts: the bank split (scripts/split_bank.py) and the similarity floor of the
fit (scripts/fit_policy.py)."""

import json
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

from tests.paths import CORPUS, ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import fit_policy  # scripts/ is not a package


def _split(path, seed):
    command = [sys.executable, "scripts/split_bank.py", str(path), "--seed", str(seed)]
    subprocess.run([*command, "--corpus", str(CORPUS)], cwd=ROOT, check=True)
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_bank_is_split_in_halves_per_kind_and_direction_and_never_redrawn(tmp_path):
    bank = tmp_path / "bank.jsonl"
    rows = [
        {"id": f"{kind}{i}", "lang": lang, "question": "q", "essay": essay, "kind": kind}
        for kind, lang, essay in [
            ("same-lang", "en", "ads-arpu"),
            ("cross-lang", "zh", "ads-arpu"),
            ("near-miss", "zh", None),
        ]
        for i in range(4)
    ]
    bank.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    first = _split(bank, 7)
    assert Counter((r["kind"], r["split"]) for r in first) == {
        (kind, half): 2
        for kind in ("same-lang", "cross-lang", "near-miss")
        for half in ("tune", "test")
    }
    assert _split(bank, 8) == first  # a split bank keeps its split


def _signals(similarity, right):
    """Signals of one question per value: each clears every threshold but the similarity."""
    s = object.__new__(fit_policy.Signals)
    n = len(similarity)
    s.inside = np.ones(n, dtype=bool)
    s.score, s.words, s.gap = np.full(n, 2.0), np.ones(n), np.ones(n)
    s.number, s.agrees = np.ones(n, dtype=bool), np.ones(n, dtype=bool)
    s.similarity, s.right = np.array(similarity), np.array(right)
    return s


RULE = (1.0, 0.01, 0.5, 0.01, -1.0, -1.0)


@pytest.mark.parametrize(
    ("right", "kept"),
    [
        ([False, False, True, True], [False, False, True, True]),  # only wrong quotes go
        ([False, True, True, True], [False, True, True, True]),  # a right one stays
        ([True, True, True, True], [True, True, True, True]),
    ],
)
def test_the_similarity_floor_takes_away_no_right_first_quote(right, kept):
    s = _signals([0.1, 0.2, 0.3, 0.4], right)
    floor = fit_policy.similarity_floor(s, RULE)
    _, quoted = s.outcomes(*RULE, floor)
    assert quoted.tolist() == kept
