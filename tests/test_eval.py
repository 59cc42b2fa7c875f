"""The eval suite, the scoring of items, the gate and the harness (the metrics on their own:
test_eval_metrics.py).

The suite tests check eval/qa.jsonl against the seed article itself. The end-to-end tests
run the harness through the real pipeline (real embedding model, real Chroma in a temporary
folder, the extractive generator).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from assistant.types import Answer, Citation
from eval import harness
from eval.errors import UsageError
from eval.scoring import metrics as m
from eval.scoring.aggregate import HEADLINE, aggregate
from eval.scoring.gate import Thresholds, gate, load_thresholds
from eval.scoring.item import score_item
from eval.suites.everyday import TYPES as EVERYDAY_TYPES
from eval.suites.suite import SUITE_PATH, THRESHOLDS_PATH, TYPES, Item, load_suite, spread

ROOT = Path(__file__).resolve().parent.parent
ARTICLE_PATH = ROOT / "seeds" / "russia-iss-withdrawal.txt"
ARTICLE = ARTICLE_PATH.read_text(encoding="utf-8")
SUITE = load_suite()


# --- the suite ---------------------------------------------------------------------------


def _squash(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


def test_suite_size_and_coverage_of_question_kinds():
    assert len(SUITE) >= 60
    kinds = {item.type for item in SUITE}
    external = {t for t in TYPES if t.startswith(("squad_", "users_"))}
    others = (set(EVERYDAY_TYPES) - {"followup"}) | external
    assert kinds == set(TYPES) - others
    unanswerable = [i for i in SUITE if not i.answerable]
    assert len(unanswerable) >= 15
    assert sum(i.type == "unanswerable_offtopic" for i in SUITE) >= 5
    assert sum(i.type == "unanswerable_nearmiss" for i in SUITE) >= 8
    injections = [i for i in SUITE if i.type == "injection"]
    assert len(injections) >= 5
    assert any(i.answerable for i in injections) and any(not i.answerable for i in injections)
    assert sum(bool(i.history) and i.answerable for i in SUITE) >= 6
    assert all(len(i.evidence) >= 2 for i in SUITE if i.type == "multi_sentence")


def test_every_line_of_the_suite_has_exactly_the_documented_fields():
    fields = {"id", "question", "answerable", "answers", "evidence", "history", "type", "nuggets"}
    for line in SUITE_PATH.read_text(encoding="utf-8").splitlines():
        assert set(json.loads(line)) == fields


def test_every_evidence_string_is_an_exact_substring_of_the_article():
    for item in SUITE:
        for sentence in item.evidence:
            assert sentence in ARTICLE, item.id


def test_answerable_items_have_answers_backed_by_their_evidence():
    for item in SUITE:
        if not item.answerable:
            assert not item.answers and not item.evidence, item.id
            continue
        # the canonical (first) answer is stated in the evidence itself
        assert m.contains_answer(" ".join(item.evidence), item.answers[:1]), item.id
        # every alias is spelled from the article (the article's glued words included)
        article_words = set(m.answer_tokens(ARTICLE))
        for alias in item.answers:
            assert _squash(alias) in _squash(ARTICLE) or set(m.answer_tokens(alias)) <= (
                article_words
            ), (item.id, alias)


def test_follow_ups_carry_a_history_of_pairs():
    for item in SUITE:
        if item.type == "followup":
            assert item.history, item.id
        for pair in item.history:
            assert len(pair) == 2 and all(pair), item.id


def test_load_suite_rejects_bad_items(tmp_path):
    good = json.loads(SUITE_PATH.read_text(encoding="utf-8").splitlines()[0])
    cases = {
        "missing field": {k: v for k, v in good.items() if k != "evidence"},
        "unknown type": {**good, "type": "trivia"},
        "no evidence": {**good, "evidence": []},
    }
    for why, raw in cases.items():
        path = tmp_path / "qa.jsonl"
        path.write_text(json.dumps(raw) + "\n", encoding="utf-8")
        with pytest.raises(UsageError):
            load_suite(path)
        assert why
    path.write_text(json.dumps(good) + "\n" + json.dumps(good) + "\n", encoding="utf-8")
    with pytest.raises(UsageError, match="duplicate"):
        load_suite(path)


def test_spread_picks_items_over_the_whole_suite():
    picked = spread(SUITE, 10)
    assert len(picked) == 10 and len({i.id for i in picked}) == 10
    assert len({i.type for i in picked}) >= 6
    assert spread(SUITE, None) == SUITE


# --- scoring items -----------------------------------------------------------------------


def _item(item_id: str) -> Item:
    return next(i for i in SUITE if i.id == item_id)


def _passage(text: str, start: int = 0):
    # the pipeline's Passage type: number, id, source, start, end, text, score
    from assistant.types import Passage
    from index.split import Chunk

    return Passage(1, Chunk("c", "a.txt", start, start + len(text), text), 1.0)


def _citation(number: int, text: str) -> Citation:
    return Citation(number, "a.txt", 0, len(text), text, text, 1.0)


def test_score_item_correct_and_cited():
    item = _item("date-03")
    passage = f"The end of a deal\n{item.evidence[0]} More."
    answer = Answer(
        "The first element was launched in 1998 [1].",
        False,
        [_citation(1, passage)],
        {"total": 0.2},
        "extractive",
    )
    r = score_item(item, answer, [_passage("other"), _passage(passage)], k_shown=4)
    assert (r.gold_rank, r.contains, r.correct, r.crag, r.bucket) == (2, True, True, 1, "ok")
    assert (r.citations_valid, r.citation_support, r.citation_coverage) == (True, 1.0, 1.0)


def test_score_item_buckets():
    item = _item("date-03")
    gold = _passage(item.evidence[0])
    cite = [_citation(1, item.evidence[0])]

    def bucket(text, refused=False, ranked=(gold,), citations=cite):
        answer = Answer(text, refused, list(citations), {"total": 0.1}, "extractive")
        return score_item(item, answer, list(ranked), k_shown=4).bucket

    assert bucket("In 1998 [1].") == "ok"
    assert bucket("In 1998 [2].") == "uncited_or_miscited"  # points to no shown passage
    assert bucket("In 1998.") == "uncited_or_miscited"
    assert bucket("In 1997 [1].") == "wrong_answer"
    assert bucket("No.", refused=True, citations=()) == "false_refusal"
    assert bucket("No.", refused=True, ranked=[_passage("x")] * 5) == "retrieval_miss"
    assert bucket("In 1997 [1].", ranked=[]) == "retrieval_miss"

    off = _item("offtopic-01")
    refusal = Answer("The documents do not cover this.", True, [], {}, "extractive")
    assert score_item(off, refusal, None, k_shown=4).bucket == "ok"
    answered = Answer("Paris [1].", False, cite, {}, "extractive")
    r = score_item(off, answered, None, k_shown=4)
    assert (r.bucket, r.crag, r.correct) == ("answered_unanswerable", -1, False)


def test_a_crashed_item_is_wrong_and_stays_in_every_denominator():
    answerable, unanswerable = _item("date-03"), _item("offtopic-01")
    ok = Answer("In 1998 [1].", False, [_citation(1, answerable.evidence[0])], {"total": 1.0})
    refused = Answer("The documents do not cover this.", True, [], {"total": 1.0})
    results = [
        score_item(answerable, ok, [_passage(answerable.evidence[0])], k_shown=4),
        score_item(answerable, None, None, k_shown=4, error="boom", wall=3.0),
        score_item(unanswerable, refused, None, k_shown=4),
        score_item(unanswerable, None, None, k_shown=4, error="boom", wall=3.0),
    ]
    assert [r.bucket for r in results] == ["ok", "crash", "ok", "crash"]
    summary = aggregate(results)
    h = summary["headline"]
    assert h["accuracy"] == 0.5
    assert h["contains"] == 0.5 and h["hit@1"] == 0.5 and h["citation_support"] == 0.5
    assert h["crag"] == 0.0  # (+1 - 1 + 1 - 1) / 4
    assert h["refusal_recall"] == 0.5 and h["refusal_precision"] == 1.0
    assert h["false_refusal_rate"] == 0.0
    assert h["citation_validity"] == 0.5
    # over the answer (1.0) and the two crashes (0.0); the refusal makes no claim
    assert h["citation_coverage"] == pytest.approx(1 / 3, abs=1e-4)
    assert summary["counts"]["crashed"] == 2 and summary["buckets"]["crash"] == 2
    assert h["latency_p50_s"] == pytest.approx(2.0)  # crashes keep their wall time


# --- thresholds, baseline, gate ----------------------------------------------------------


def test_the_thresholds_file_documents_every_metric_and_loads():
    import tomllib

    data = tomllib.loads(THRESHOLDS_PATH.read_text(encoding="utf-8"))
    assert set(data["metrics"]) == set(HEADLINE)
    assert all(cfg.get("doc") for cfg in data["metrics"].values())
    t = load_thresholds()
    assert {"extractive", "local", "default"} <= set(t.bounds)
    assert t.for_generator("openai") == t.bounds["default"]


def test_load_thresholds_rejects_unknown_metrics(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text('[generators.extractive]\n"hit@2" = { min = 0.5 }\n', encoding="utf-8")
    with pytest.raises(UsageError, match="hit@2"):
        load_thresholds(path)
    path.write_text("[generators.extractive]\nf1 = 0.5\n", encoding="utf-8")
    with pytest.raises(UsageError, match="min"):
        load_thresholds(path)


def _thresholds(tmp_path, text: str) -> Thresholds:
    path = tmp_path / "t.toml"
    path.write_text(text, encoding="utf-8")
    return load_thresholds(path)


def test_gate_bounds_and_baseline_drops(tmp_path):
    t = _thresholds(
        tmp_path,
        "[compare]\nmax_drop = 0.05\n"
        "[metrics.latency_p95_s]\nmax_drop = 1.0\nrelative = true\n"
        "[metrics.f1]\nmax_drop = false\n"
        "[generators.x]\ncontains = { min = 0.7 }\nfalse_refusal_rate = { max = 0.1 }\n",
    )
    base = {"metrics": {"contains": 0.9, "hit@1": 0.8, "f1": 0.9, "latency_p95_s": 1.0}}
    headline = {
        "contains": 0.86,  # within the margin of 0.05
        "hit@1": 0.7,  # dropped 0.1
        "f1": 0.1,  # not compared
        "latency_p95_s": 2.5,  # more than double
        "false_refusal_rate": 0.2,  # above its maximum
    }
    checks = {c.metric: c for c in gate("x", headline, t, base)}
    assert checks["contains"].ok
    assert not checks["hit@1"].ok and "dropped" in checks["hit@1"].reasons[0]
    assert checks["f1"].ok
    assert not checks["latency_p95_s"].ok and "rose" in checks["latency_p95_s"].reasons[0]
    assert not checks["false_refusal_rate"].ok
    assert checks["accuracy"].ok and checks["accuracy"].value is None  # n/a is not gated
    headline["contains"] = 0.6
    assert not {c.metric: c for c in gate("x", headline, t, None)}["contains"].ok
    relaxed = gate("x", {"hit@1": 0.1}, t, base, compare=False)
    assert all(c.ok for c in relaxed)


def test_main_rejects_bad_usage(capsys):
    assert harness.main(["--limit", "0"]) == 2
    assert harness.main(["--generator", "gpt-9"]) == 2
    assert harness.main(["--write-baseline", "--limit", "3"]) == 2
    err = capsys.readouterr().err
    assert err.count("assistant eval:") == 3
    assert harness.main(["--no-such-option"]) == 2
    assert harness.main(["--help"]) == 0


def test_eval_ranks_ten_deep_whatever_trace_depth_is_set(monkeypatch):
    monkeypatch.setenv("ASSISTANT_TRACE_DEPTH", "3")
    settings, _, _ = harness._checked(harness.build_parser().parse_args([]))
    assert settings.retrieval.trace_depth == 10  # MRR@10 reads ten ranked chunks


def test_bench_rejects_an_unknown_stage_in_one_line(capsys):
    from eval.bench import run as bench

    with pytest.raises(SystemExit) as exit_info:
        bench.main(["--stages", "answers,speed"])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert exit_info.value.code == 2 and err.startswith(
        "assistant bench: error: unknown stage speed"
    )


# --- end to end --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seeded_data_dir(tmp_path_factory):
    """A real index of seeds/ (real embedder, embedded Chroma) in a temporary folder."""
    from assistant.settings import Settings
    from index import Store, ingest, shared_embedder

    data_dir = tmp_path_factory.mktemp("eval-data")
    store = Store(data_dir, None, "chunks")
    s = Settings()
    ingest(
        [ROOT / "seeds"], store, shared_embedder(), progress=False,
        chunk_size=s.index.chunk_size, overlap=s.index.chunk_overlap,
    )  # fmt: skip
    return data_dir


def test_harness_end_to_end_with_the_extractive_generator(seeded_data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(seeded_data_dir))
    results = tmp_path / "results"
    baseline = tmp_path / "baseline.json"
    strict = tmp_path / "strict.toml"  # an impossible bound: the gate must fail
    strict.write_text("[generators.extractive]\naccuracy = { min = 1.01 }\n", encoding="utf-8")
    argv = ["--generator", "extractive", "--limit", "8", "--results", str(results), "--quiet"]
    argv += ["--thresholds", str(strict), "--baseline", str(baseline)]

    assert harness.main([*argv, "--no-gate"]) == 0
    (folder,) = results.iterdir()
    assert folder.name.endswith("-extractive")
    assert {p.name for p in folder.iterdir()} == {
        "report.json",
        "report.md",
        "questions.csv",
        "chart.png",
        "risk_coverage.png",
    }
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    assert report["counts"]["items"] == 8 and len(report["items"]) == 8
    assert report["counts"]["crashed"] == 0
    assert set(report["headline"]) == set(HEADLINE)
    assert all(i["generator"] == "extractive" for i in report["items"])
    assert any(i["answerable"] and i["correct"] for i in report["items"])
    assert sum(report["buckets"].values()) == 8
    assert report["gate"]["pass"] is False
    assert (folder / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (folder / "report.md").read_text(encoding="utf-8")
    assert "| hit@1 |" in md and "## Per question" in md
    assert len((folder / "questions.csv").read_text(encoding="utf-8").splitlines()) == 9

    assert harness.main(argv) == 1
    assert len(list(results.iterdir())) == 2  # every run keeps its own folder


def test_write_baseline_then_compare(seeded_data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(seeded_data_dir))
    suite = tmp_path / "qa.jsonl"
    lines = SUITE_PATH.read_text(encoding="utf-8").splitlines()
    suite.write_text("\n".join(lines[::12]) + "\n", encoding="utf-8")  # a small, whole suite
    baseline = tmp_path / "baseline.json"
    lenient = tmp_path / "t.toml"
    lenient.write_text(  # latency varies between runs: compare quality only
        "[compare]\nmax_drop = 0.05\n[metrics.latency_p50_s]\nmax_drop = false\n"
        "[metrics.latency_p95_s]\nmax_drop = false\n",
        encoding="utf-8",
    )
    argv = [
        "--generator",
        "extractive",
        "--suite",
        str(suite),
        "--baseline",
        str(baseline),
        "--thresholds",
        str(lenient),
        "--results",
        str(tmp_path / "results"),
        "--quiet",
    ]
    assert harness.main([*argv, "--write-baseline"]) == 0
    stored = json.loads(baseline.read_text(encoding="utf-8"))["generators"]["extractive"]
    assert stored["items"] == len(lines[::12])
    assert set(stored["metrics"]) == set(HEADLINE)

    # the same system against its own baseline passes; a baseline it cannot reach fails
    assert harness.main(argv) == 0
    data = json.loads(baseline.read_text(encoding="utf-8"))
    data["generators"]["extractive"]["metrics"]["accuracy"] = 1.5
    baseline.write_text(json.dumps(data), encoding="utf-8")
    assert harness.main(argv) == 1


TINY_DOCS = {
    "Normans.txt": "The Normans gave their name to Normandy, a region in France. They "
    "descended from Norse raiders led by Rollo, who swore fealty to King Charles III in 911.",
    "Rhine.txt": "The Rhine rises in the Swiss Alps and flows into the North Sea near "
    "Rotterdam. It is about 1,230 kilometres long.",
    "Lighthouse.txt": "The lighthouse keeper lit the lamp every evening at six o'clock.",
}
TINY_QUESTIONS = [
    ("Normans", "Who led the Norse raiders?", True, ["Rollo"]),
    ("Normans", "To which king did Rollo swear fealty?", True, ["King Charles III"]),
    ("Normans", "Who led the Roman raiders in 911?", False, []),
    ("Rhine", "Where does the Rhine rise?", True, ["Swiss Alps"]),
    ("Rhine", "How deep is the Rhine near Rotterdam?", False, []),
]


def test_the_squad2_open_suite_runs_over_its_own_corpus(tmp_path, monkeypatch):
    """`--suite squad2-open` ingests the dataset's documents into an index of its own, asks
    the test part's sample (articles of the split file) and reports selective figures."""
    dataset = tmp_path / "squad2-open"
    (dataset / "docs").mkdir(parents=True)
    for name, text in TINY_DOCS.items():
        (dataset / "docs" / name).write_text(text, encoding="utf-8")
    rows = [
        {"id": f"q{i}", "article": a, "question": q, "answerable": ok, "answers": ans}
        for i, (a, q, ok, ans) in enumerate(TINY_QUESTIONS)
    ]
    (dataset / "questions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    monkeypatch.setenv("ASSISTANT_SQUAD2_DIR", str(dataset))
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    results = tmp_path / "results"
    argv = ["--suite", "squad2-open", "--generator", "extractive", "--quiet", "--no-gate"]
    assert harness.main([*argv, "--results", str(results)]) == 0
    (folder,) = results.iterdir()
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    asked = {i["id"] for i in report["items"]}
    headline = report["headline"]
    # Normans is in the test part, Rhine in the calibration part (eval/suites/squad2_open.toml)
    assert (asked, report["suite"]["name"]) == ({"q0", "q1", "q2"}, "squad2-open")
    items = report["items"]
    answered = [i for i in items if not i["refused"]]
    # the report rounds to 4 decimals
    assert headline["coverage"] == pytest.approx(len(answered) / len(items), abs=1e-4)
    assert headline["crag"] == pytest.approx(sum(i["crag"] for i in items) / len(items), abs=1e-4)
    assert (folder / "risk_coverage.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "data" / "suites" / "squad2-open" / "chroma").is_dir()


def test_a_squad_answer_counts_only_when_a_cited_passage_holds_it_too():
    golds = ["Rollo", "King Charles III"]
    verdicts = [
        m.cited_answer("Rollo led them [1].", ["Norse raiders led by Rollo."], golds),
        m.cited_answer("Rollo led them [1].", ["The Normans gave their name."], golds),
        m.cited_answer("Nobody led them [1].", ["Norse raiders led by Rollo."], golds),
    ]
    assert verdicts == [True, False, False]


def test_a_cited_passage_may_spell_the_answer_as_another_gold_does():
    cited = ["The main telescope has a mirror 2.4 metres across."]
    assert m.cited_answer("2.4 meters [1]", cited, ["2.4 metres", "2.4 meters"])


def test_every_nugget_of_the_suites_stands_in_its_evidence():
    from eval.scoring.nuggets import nugget_problems

    paths = [SUITE_PATH, *(ROOT / "eval" / "users_words").glob("*.jsonl")]
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            if item["answerable"]:
                assert nugget_problems(item["nuggets"], item["evidence"]) == [], item["id"]
            else:
                assert item["nuggets"] == [], item["id"]
