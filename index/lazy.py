"""Package attributes imported on first use (PEP 562), so importing a package is cheap."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_attributes(package: str, where: dict[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` that imports `name` from the module `where[name]` names.

    Importing a submodule binds it on the package under its own name (`index.ingest`, the
    module), which would hide a function of that name (`index.ingest`, the function); so
    every name taken from a module is bound on the package as soon as that module loads.
    """

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(where[name])
        for other, source in where.items():
            if source == where[name]:
                setattr(sys.modules[package], other, getattr(module, other))
        return getattr(module, name)

    return __getattr__
