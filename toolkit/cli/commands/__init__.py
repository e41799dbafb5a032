"""One module per `disclosure` subcommand; each exposes ``register(app)``.

Commands stay thin: parse options, call the library function, print 中文 output."""

from __future__ import annotations

import importlib
import pkgutil


def register_all(app) -> None:
    for mod in sorted(m.name for m in pkgutil.iter_modules(__path__)):
        module = importlib.import_module(f"{__name__}.{mod}")
        if hasattr(module, "register"):
            module.register(app)
