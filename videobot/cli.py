"""The ``videobot`` command: parses the command line and hands over to the bot or the generator.

Holds no logic of its own. Each subcommand imports only its own room, so ``videobot bot`` never loads
torch and ``videobot worker`` never loads discord.py.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn


class _Parser(argparse.ArgumentParser):
    """Bad arguments: one line on stderr and exit status 2 (argparse prints the whole usage too)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


class _Help(argparse.RawDescriptionHelpFormatter):
    """Each option's default in its help (unless the help says it already), the example kept as written."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (
            "default" in text
            or not action.option_strings
            or action.default in (None, False, "", argparse.SUPPRESS)
        ):
            return text
        return f"{text} (default: %(default)s)"


EXAMPLES = {
    "generate": 'videobot generate "a red fox running through snow, golden hour" -o fox.mp4 --seconds 4',
    "extend": 'videobot extend fox.mp4 "the fox jumps into a snowdrift" -o fox-longer.mp4',
    "bridge": 'videobot bridge fox.mp4 owl.mp4 "the fox runs into the forest at dusk" -o fox-to-owl.mp4',
    "hd": "videobot hd fox.mp4 -o fox-hd.mp4 --model ltx-2.3-distilled",
    "verify": "videobot verify fox.mp4",
    "models": "videobot models",
    "download": "videobot download ltx-video",
    "worker": "videobot worker --database postgresql://videobot:secret@10.0.0.5/videobot --models ltx-video",
    "bot": "DISCORD_TOKEN=your-bot-token videobot bot --shards 0-3 --shard-count 8",
    "status": "videobot status --database ./videobot.db",
    "web": "videobot web --host 0.0.0.0 --port 8080",
    "run": "DISCORD_TOKEN=your-bot-token videobot run --models ltx-video",
}


def _command(sub: argparse._SubParsersAction[_Parser], name: str, help: str) -> _Parser:
    """A subcommand whose --help shows the defaults and one example."""
    return sub.add_parser(
        name, help=help, description=help, formatter_class=_Help, epilog=f"example:\n  {EXAMPLES[name]}"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="videobot", description="Make short video clips together, on your own GPUs.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    from generator.cli import add_generate_arguments  # argparse only: no torch until a render runs

    gen = _command(sub, "generate", "render one clip to an mp4, no Discord needed")
    add_generate_arguments(gen)
    gen.set_defaults(handler="generator.cli:run_generate")

    from generator.cli import add_extend_arguments

    extend = _command(sub, "extend", "continue a clip (any mp4) and write the longer clip")
    add_extend_arguments(extend)
    extend.set_defaults(handler="generator.cli:run_extend")

    from generator.cli import add_bridge_arguments

    bridge = _command(sub, "bridge", "join two clips (any mp4s) with a bridge rendered from one to the other")
    add_bridge_arguments(bridge)
    bridge.set_defaults(handler="generator.cli:run_bridge")

    from generator.cli import add_hd_arguments

    hd = _command(sub, "hd", "finish a clip (any mp4) in HD: upsampled 2x and refined")
    add_hd_arguments(hd)
    hd.set_defaults(handler="generator.cli:run_hd")

    verify = _command(
        sub,
        "verify",
        "check a clip's content credentials (C2PA): signed or not, valid or altered, which model, "
        "made from what; exit 0 valid, 1 none or not valid, 2 unreadable",
    )
    verify.add_argument("file", type=Path, help="the clip (mp4, mov) or picture to check")
    verify.set_defaults(handler="db.credentials:run_verify")

    models = _command(sub, "models", "list the model presets")
    models.set_defaults(handler="generator.cli:run_models")

    from generator.cli import add_download_arguments

    download = _command(
        sub,
        "download",
        "fetch presets' weights into the Hugging Face cache (only the files each pipeline loads)",
    )
    add_download_arguments(download)
    download.set_defaults(handler="generator.cli:run_download")

    from generator.cli import add_worker_arguments

    worker = _command(sub, "worker", "render queued jobs on this machine's GPU (scale-out)")
    add_worker_arguments(worker)
    worker.set_defaults(handler="generator.cli:run_worker")

    database_help = "job store URL (default: $VIDEOBOT_DATABASE_URL, else ./videobot.db)"
    bot = _command(sub, "bot", "run the Discord bot alone (needs DISCORD_TOKEN)")
    bot.add_argument("--database", help=database_help)
    bot.add_argument(
        "--shards",
        metavar="A-B",
        help="connect as Discord shards A to B only (with --shard-count; default: $VIDEOBOT_SHARDS, "
        "else every guild in this process)",
    )
    bot.add_argument(
        "--shard-count", metavar="N", help="how many shards in all (default: $VIDEOBOT_SHARD_COUNT)"
    )
    bot.add_argument(
        "--sync-commands",
        action="store_true",
        help="sync the slash commands with Discord now, even if this command tree was synced before",
    )
    from videobot.metrics import add_metrics_arguments

    add_metrics_arguments(bot)
    bot.set_defaults(handler="bot.cli:run_bot")

    status = _command(sub, "status", "the queue per server, the workers and their jobs, clips per hour")
    status.add_argument("--database", help=database_help)
    status.set_defaults(handler="videobot.status:run_status")

    web = _command(sub, "web", "serve the web gallery of the servers that opted in")
    web.add_argument("--database", help=database_help)
    web.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    web.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    web.add_argument(
        "--public-url",
        metavar="URL",
        help="the address people reach the gallery at, for the links in shared previews "
        "(default: http://HOST:PORT)",
    )
    web.set_defaults(handler="videobot.web:run_web")

    run = _command(sub, "run", "the bot and one worker per GPU, on this machine (needs DISCORD_TOKEN)")
    run.add_argument("--database", help=database_help)
    run.add_argument(
        "--models",
        metavar="NAME[,NAME]",
        help="presets the workers render, fetched on first start (default: those whose weights are here, "
        "else the default preset)",
    )
    run.set_defaults(handler="videobot.run:run_all")
    return parser


def _call(handler: str, args: argparse.Namespace) -> int:
    module_name, func_name = handler.split(":")
    module = importlib.import_module(module_name)
    result: int = getattr(module, func_name)(args)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from generator.cli import UsageError

    try:
        return _call(args.handler, args)
    except UsageError as exc:
        print(f"videobot {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
