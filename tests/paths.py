"""Where the repository, its corpus and the question sets are."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
DEV = ROOT / "tests" / "data" / "dev.jsonl"
# Written from the essays in round 5 of #3 to check changes beyond dev (docs/retrieval.md)
PROBES = (
    ROOT / "tests" / "data" / "probe-extra.jsonl",
    ROOT / "tests" / "data" / "probe-offtopic.jsonl",
)
# The question bank of #13: written from the essays alone, split once into tune and test
BANK = ROOT / "tests" / "data" / "questions.jsonl"
# A second bank, written the same way after round 8 had looked at the first's test half six
# times: a test half nothing was fitted on or looked at, and a larger tune half
BANK_2 = ROOT / "tests" / "data" / "questions-2.jsonl"
# A third, written the same way in round 10 after both test halves had been looked at
BANK_3 = ROOT / "tests" / "data" / "questions-3.jsonl"
