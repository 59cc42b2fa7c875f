"""Starting the chat: index the corpus if asked, load the models, serve the page.

Served on a loopback address the page is open; on any other address it needs sign-in
(`ASSISTANT_AUTH=user:password`, `--auth user:password`, or `--auth FILE` with one
`user:password` a line) unless `--no-auth` says otherwise, since anyone who reaches it could
add and remove documents.
"""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.chat.signin import SignIn, SignInMiddleware, startup_line
from assistant.errors import AssistantError, BadInput, describe
from assistant.settings import Settings
from assistant.stores import corpus
from index.offline import go_offline

if TYPE_CHECKING:
    import gradio as gr

STYLES = Path(__file__).with_name("page.css")
# The page's scripts: page.js, then confirm.js (Delete and Remove ask first).
SCRIPTS = (Path(__file__).with_name("page.js"), Path(__file__).with_name("confirm.js"))
Credentials = list[tuple[str, str]]


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_credentials(value: str) -> Credentials:
    """`user:password`, or the path of a file with one `user:password` a line."""
    path = Path(value).expanduser()
    if path.is_file():
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise BadInput(f"cannot read the credentials file {path}: {exc}") from None
        where = f"in {path}"
    else:
        lines, where = [value], "in ASSISTANT_AUTH / --auth"
    creds = []
    for n, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, password = line.partition(":")
        if not sep or not user.strip() or not password:
            raise BadInput(f"credentials line {n} {where} is not user:password")
        creds.append((user.strip(), password))
    if not creds:
        raise BadInput(f"no user:password {where}")
    return creds


def resolve_auth(host: str, value: str | None = None, no_auth: bool = False) -> Credentials | None:
    """The sign-in credentials to serve with, or None for an open page.

    Raises BadInput when `host` is not a loopback address and no credentials are set,
    unless `no_auth`.
    """
    if value:
        return parse_credentials(value)
    if no_auth or is_loopback(host):
        return None
    raise BadInput(
        f"refusing to serve on {host} without sign-in: set ASSISTANT_AUTH=user:password "
        "(or --auth FILE of user:password lines), or pass --no-auth to serve it open"
    )


def ensure_index(settings: Settings) -> bool:
    """Ingest `settings.index.corpus_dir` when the index is missing or empty. True if it
    ingested."""
    from assistant.question.pipeline import forget_pipelines

    if corpus.documents(settings):
        return False
    if not settings.index.corpus_dir.exists():
        raise AssistantError(
            f"the index is empty and {settings.index.corpus_dir} does not exist: "
            "run `assistant ingest PATH` first"
        )
    print(
        f"indexing {settings.index.corpus_dir} (the index is empty) ...",
        file=sys.stderr,
        flush=True,
    )
    report = corpus.ingest_paths(
        settings,
        [settings.index.corpus_dir],
        progress=sys.stderr.isatty(),
        on_problem=lambda p: print(p, file=sys.stderr),
    )
    forget_pipelines()
    print(report.summary(), file=sys.stderr, flush=True)
    return True


def warm_up(settings: Settings) -> None:
    """Load the index and the default generator once, before the first question."""
    from assistant.question.pipeline import get_pipeline

    try:
        pipeline = get_pipeline(settings)
        pipeline.warm(settings.answer.generator)
    except AssistantError as exc:
        print(f"note: {exc} (the page opens anyway and shows this)", file=sys.stderr)
        return
    except Exception as exc:
        print(f"note: {describe(exc)} (the page opens anyway)", file=sys.stderr)
        return
    for notice in pipeline.notices:
        print(f"note: {notice}", file=sys.stderr)


def theme() -> Any:
    """The default theme with system fonts (the stock one fetches Google Fonts)."""
    import gradio as gr

    system = [
        "ui-sans-serif",
        "system-ui",
        "-apple-system",
        "Segoe UI",
        "Helvetica",
        "Arial",
        "sans-serif",
    ]
    mono = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "DejaVu Sans Mono", "monospace"]
    # The stock subdued text (descriptions, the upload's "- or -", the slider's ends) is 1.9:1
    # on white; neutral-600 reads at 7:1 (WCAG AA asks 4.5:1). White on the stock red of Stop
    # is 3.7:1; on red-700 6.5:1. The same for a primary button's blue-500 (blue-700: 6.7:1).
    red, darker = "#b91c1c", "#991b1b"
    cancel = {"background_fill": red, "background_fill_hover": darker, "border_color": red}
    return gr.themes.Default(primary_hue="blue", font=system, font_mono=mono).set(
        button_primary_background_fill="*primary_700",
        button_primary_background_fill_hover="*primary_800",
        button_primary_border_color="*primary_700",
        body_text_color_subdued="*neutral_600",
        body_text_color_subdued_dark="*neutral_400",
        # Stop's red is the same in the light and the dark scheme.
        **{f"button_cancel_{k}{scheme}": v for k, v in cancel.items() for scheme in ("", "_dark")},
    )


def launch(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 7860,
    ingest_if_empty: bool = False,
    *,
    block: bool = True,
    auth: Credentials | None = None,
) -> gr.Blocks:
    """Serve the chat on http://host:port (blocks until interrupted unless `block=False`).

    With `ingest_if_empty`, indexes `settings.index.corpus_dir` first when the index is empty.
    With `auth`, the page needs sign-in. Returns the running Blocks (`.close()` stops it).
    """
    from assistant.chat.layout import build_app

    go_offline()
    if ingest_if_empty:
        ensure_index(settings)
    warm_up(settings)
    demo = build_app(settings, auth_required=bool(auth))
    # Answers running at once (the rest wait in Gradio's queue). The extractive generator and
    # retrieval are thread-safe; the local model serialises its own calls with a lock.
    demo.queue(default_concurrency_limit=settings.chat.chat_concurrency)
    from starlette.middleware import Middleware

    # The sign-in check sees each attempt's address (failed attempts are limited per address).
    app_kwargs = {"middleware": [Middleware(SignInMiddleware)]} if auth else None
    try:
        demo.launch(
            server_name=host,
            server_port=port,
            share=False,
            inbrowser=False,
            prevent_thread_lock=True,
            show_error=False,
            quiet=True,
            footer_links=["api"],
            enable_monitoring=False,  # no request statistics served (nor shown on the API page)
            theme=theme(),
            css=STYLES.read_text(encoding="utf-8"),
            head="".join(f"<script>{js.read_text(encoding='utf-8')}</script>" for js in SCRIPTS),
            auth=SignIn(auth) if auth else None,
            auth_message="Sign in to ask the documents." if auth else None,
            app_kwargs=app_kwargs,
            # Uploads bigger than a whole upload may be are refused before they are stored.
            max_file_size=int(settings.uploads.max_upload_mb * 1024 * 1024),
        )
    except OSError as exc:
        if "empty port" in str(exc):
            raise AssistantError(
                f"port {port} on {host} is in use; pick another with --port"
            ) from None
        raise AssistantError(f"cannot serve on {host}:{port} ({describe(exc)})") from None
    line = startup_line(host, port, len(auth or []), loopback=is_loopback(host))
    print(line, file=sys.stderr, flush=True)
    if block:
        demo.block_thread()  # until Ctrl+C, which closes the server
    return demo


__all__ = ["ensure_index", "launch", "resolve_auth", "theme", "warm_up"]
