"""The `nianbao` command line. Subcommands live next to what they drive:
archive commands in pipeline.commands, crawl commands in crawler.commands,
site commands (serve, export, demo) in pipeline.site.commands."""
from __future__ import annotations

import importlib

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nianbao")
def main() -> None:
    """nianbao: crawl, parse and serve 政府信息公开工作年度报告."""


for _module in ("pipeline.commands", "crawler.commands", "pipeline.site.commands"):
    try:
        _mod = importlib.import_module(_module)
    except ModuleNotFoundError as e:  # a part not built yet must not break the others
        if e.name != _module:
            raise
        continue
    for _cmd in getattr(_mod, "COMMANDS", []):
        main.add_command(_cmd)

if __name__ == "__main__":
    main()
