"""One module per `disclosure` subcommand; each exposes ``register(app)``.

Commands stay thin: parse options, call the library function, print 中文 output."""

from __future__ import annotations

import importlib
import pkgutil


# The order `disclosure --help` lists the commands in: the office's year, step by step.
WORKFLOW = ("template", "distribute", "collect", "check", "mail", "status", "remind", "aggregate", "rules", "demo")


def register_all(app) -> None:
    from toolkit.cli.cli_zh import OPTIONS_METAVAR

    for mod in sorted(m.name for m in pkgutil.iter_modules(__path__)):
        module = importlib.import_module(f"{__name__}.{mod}")
        if hasattr(module, "register"):
            module.register(app)
    rank = {name: i for i, name in enumerate(WORKFLOW)}
    app.registered_commands.sort(key=lambda info: rank.get(info.name, len(rank)))
    for info in app.registered_commands:
        info.options_metavar = OPTIONS_METAVAR
