"""The `assistant` command: ingest, ask, chat, settings, and the commands other packages
register (`eval`, `bench` from the eval package; assistant/plugins.py).

Exit codes: 0 success, 1 runtime failure, 2 bad usage or bad input. Errors are one line on
stderr that says what to do (set ASSISTANT_DEBUG=1 for a traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index.offline import go_offline

if TYPE_CHECKING:
    from assistant.settings import Settings
    from assistant.types import Answer


def _settings(**groups: dict[str, Any]) -> Settings:
    """The settings in force, with the options given (`index={"chunk_size": 64}`; None = not
    given) over the environment's; a bad value is one line of bad input."""
    from pydantic import ValidationError

    from assistant.errors import BadInput
    from assistant.settings import Settings, setting_fields

    given = {g: {k: v for k, v in fields.items() if v is not None} for g, fields in groups.items()}
    try:
        return Settings(**given)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][-1]) if err["loc"] else ""  # (group, field) or (field,)
        if field not in {name for _, name, _ in setting_fields()}:
            # a rule between settings (chunk overlap < size): its own sentence
            raise BadInput(str(err["msg"]).removeprefix("Value error, ")) from None
        raise BadInput(f"setting {field} (ASSISTANT_{field.upper()}): {err['msg']}") from None


def cmd_ingest(args: argparse.Namespace) -> int:
    from assistant.errors import BadInput
    from assistant.question.pipeline import forget_pipelines
    from assistant.stores.corpus import ingest_paths

    settings = _settings(index={"chunk_size": args.chunk_size, "chunk_overlap": args.chunk_overlap})
    paths = [Path(p) for p in args.paths] or [settings.index.corpus_dir]
    for path in paths:
        if not path.exists():
            raise BadInput(f"no such file or folder: {path}")
    report = ingest_paths(
        settings,
        paths,
        root=Path(args.root) if args.root else None,
        progress=not args.quiet and sys.stderr.isatty(),
        on_problem=lambda p: print(p, file=sys.stderr),
    )
    forget_pipelines()
    print(report.summary())
    loaded = report.added + report.updated + report.unchanged
    if report.problems and not loaded and not report.removed:
        raise BadInput("no readable document in the given paths")
    return 0


def _print_sources(answer: Answer) -> None:
    listed = answer.closest if answer.refused else answer.citations
    if not listed:
        return
    print("\nClosest passages (not an answer):" if answer.refused else "\nSources:")
    for c in listed:
        quote = " ".join(c.quote.split())
        page = f" p. {c.page}" if c.page else ""
        print(f"  [{c.number}] {c.source}{page} (characters {c.start}-{c.end})")
        print(f"      \u201c{quote}\u201d")


def cmd_ask(args: argparse.Namespace) -> int:
    from assistant.errors import BadInput
    from assistant.question.checks import check_question
    from assistant.question.pipeline import get_pipeline
    from assistant.types import Answer

    settings = _settings(answer={"generator": args.generator}, retrieval={"k": args.k})
    check_question(args.question, settings.answer.max_question_chars)  # fail before loading models

    history = None
    if args.history:
        try:
            history = json.loads(args.history)
        except json.JSONDecodeError as exc:
            raise BadInput(f"--history is not JSON: {exc.msg}") from None
    pipeline = get_pipeline(settings)
    stream_live = sys.stdout.isatty() and not args.json
    raw, result = "", None
    stream = pipeline.ask(
        args.question, history, generator=args.generator, k=args.k, sources=args.source
    )
    for event in stream:
        if isinstance(event, Answer):
            result = event
        else:
            raw += event
            if stream_live:
                print(event, end="", flush=True)
    assert result is not None
    for notice in pipeline.notices:
        print(f"note: {notice}", file=sys.stderr)
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False))
        return 0
    if stream_live:
        print()
        if raw.strip() == result.text:
            _print_sources(result)
            return 0
        print("\nWith checked citations:")
    print(result.text)
    _print_sources(result)
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from assistant.chat import launch, resolve_auth

    settings = _settings()
    # before any model loads
    auth = resolve_auth(args.host, args.auth or settings.chat.auth, args.no_auth)
    launch(settings, host=args.host, port=args.port, ingest_if_empty=args.ingest, auth=auth)
    return 0


def cmd_plugin(args: argparse.Namespace) -> int:
    """A command another package registers (`eval` and `bench`, assistant/plugins.py)."""
    from assistant.plugins import load

    return int(load(args.plugin)(args.rest))


def cmd_feedback(args: argparse.Namespace) -> int:
    from assistant.stores.feedback import export

    settings = _settings()
    done = export(settings.index.data_dir, Path(args.out), settings.index.database_url)
    for line in done.review:
        print(line)
    print(f"wrote {done.written} suite item(s) to {args.out}; {len(done.review)} for review")
    return 0


def cmd_settings(args: argparse.Namespace) -> int:
    from assistant.settings import setting_fields
    from assistant.stores.db import shown

    settings = _settings()
    for group, name, info in setting_fields():
        value = getattr(getattr(settings, group), name)
        if name in {"auth", "openai_api_key"} and value and value != info.default:
            value = "(set)"  # never print a secret
        elif name == "database_url" and value:
            value = shown(value)  # its password hidden
        print(f"ASSISTANT_{name.upper():<30} {value}")
    return 0


def _default(name: str) -> object:
    from assistant.settings import setting_fields

    return next(info.default for _, field, info in setting_fields() if field == name)


def build_parser() -> argparse.ArgumentParser:
    parser, sub = _built_in_parser()
    _add_plugins(sub)
    return parser


def _built_in_parser() -> tuple[argparse.ArgumentParser, Any]:
    """The parser of the built-in commands, and its subparsers to add more to."""
    parser = argparse.ArgumentParser(
        prog="assistant",
        description="Offline assistant that answers questions about your documents with cited "
        "passages, and says so when the documents do not hold the answer.",
        epilog="Settings come from ASSISTANT_* environment variables (see README, or "
        "`assistant settings`).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_ingest(sub)
    _add_ask(sub)
    _add_chat(sub)
    p = sub.add_parser("feedback", help="the chat's feedback on answers")
    action = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    e = action.add_parser(
        "export", help="write the feedback as suite items (eval/qa.jsonl's format)"
    )
    e.add_argument("--out", required=True, metavar="FILE.jsonl", help="the suite file to write")
    e.set_defaults(func=cmd_feedback)
    p = sub.add_parser("settings", help="print the settings in force (ASSISTANT_* variables)")
    p.set_defaults(func=cmd_settings)
    return parser, sub


def _add_plugins(sub: Any) -> None:
    """The registered commands (`eval`, `bench`); each parses its own options."""
    from assistant.plugins import commands, help_of

    for name, ep in commands().items():
        if name not in sub.choices:  # a built-in command keeps its name
            p = sub.add_parser(name, help=help_of(ep), add_help=False)
            p.add_argument("rest", nargs=argparse.REMAINDER)
            p.set_defaults(func=cmd_plugin, plugin=ep)


def _add_ingest(sub: Any) -> None:
    p = sub.add_parser(
        "ingest",
        help="index documents (.txt .md .html .pdf .docx)",
        description="Index files and folders. Runs are incremental: unchanged "
        "files are skipped, changed ones replaced, deleted ones removed.",
    )
    p.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="files or folders (default: ASSISTANT_CORPUS_DIR, the project's seeds/)",
    )
    p.add_argument(
        "--root",
        help="folder that sources are named relative to (default: the common parent of PATHs)",
    )
    size, overlap = _default("chunk_size"), _default("chunk_overlap")
    p.add_argument("--chunk-size", type=int, help=f"tokens per chunk (default {size})")
    p.add_argument("--chunk-overlap", type=int, help=f"overlap tokens (default {overlap})")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_ingest)


def _add_ask(sub: Any) -> None:
    p = sub.add_parser("ask", help="answer one question with cited sources")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print the Answer as one JSON object")
    p.add_argument(
        "--generator",
        choices=["local", "extractive", "openai"],
        help=f"answer backend (default: ASSISTANT_GENERATOR or {_default('generator')})",
    )
    p.add_argument("--k", type=int, help=f"chunks to retrieve (default {_default('k')})")
    p.add_argument("--history", help='earlier turns as JSON: [["question", "answer"], ...]')
    p.add_argument(
        "--source",
        action="append",
        metavar="NAME",
        help="search only this indexed document (repeatable; the name as the index lists "
        "it, e.g. beta.txt for DIR/beta.txt ingested as `assistant ingest DIR`)",
    )
    p.set_defaults(func=cmd_ask)


def _add_chat(sub: Any) -> None:
    p = sub.add_parser("chat", help="open the web chat")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument(
        "--ingest", action="store_true", help="ingest the corpus folder first if the index is empty"
    )
    p.add_argument(
        "--auth",
        metavar="USER:PASSWORD|FILE",
        help="require sign-in: user:password, or a file of user:password lines "
        "(default: ASSISTANT_AUTH); needed when --host is not a loopback address",
    )
    p.add_argument(
        "--no-auth",
        action="store_true",
        help="serve a non-loopback address without sign-in (anyone reaching it can add "
        "and remove documents)",
    )
    p.set_defaults(func=cmd_chat)


def _plugin(name: str) -> Any:
    """The registered command called `name`, unless a built-in command has that name."""
    from assistant.plugins import commands

    if name.startswith("-") or name in _built_in_parser()[1].choices:
        return None
    return commands().get(name)


def main(argv: Sequence[str] | None = None) -> int:
    go_offline()
    argv = list(sys.argv[1:] if argv is None else argv)
    plugin = _plugin(argv[0]) if argv else None
    if plugin is not None:  # parses its own options, --help included
        args = argparse.Namespace(func=cmd_plugin, plugin=plugin, rest=argv[1:])
    else:
        args = build_parser().parse_args(argv)
    from assistant.errors import AssistantError

    try:
        return args.func(args)
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted: the index keeps what it held before this run", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("ASSISTANT_DEBUG"):
            raise
        first = str(exc).splitlines()[0] if str(exc) else ""
        print(
            f"error: unexpected {type(exc).__name__}: {first} (set ASSISTANT_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
