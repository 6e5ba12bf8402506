"""Command line: `resbot ask|chat|show|timeline|eval|report|telegram|serve`.

Only `telegram` and `serve` import the channel stacks, and only when chosen, so the
question-answering path starts as fast as spaCy allows.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TextIO

from bot.config import Config, ConfigError, check_content, load_config
from bot.context import Context, advance
from bot.core import Core, get_core
from bot.model import Answer
from bot.render.plain import answer_json, render_plain
from bot.unanswered import QuestionLog, configured_path, log_settings, question_log

EXIT_OK, EXIT_INPUT, EXIT_CONFIG = 0, 2, 2
PROMPT = "resbot> "
INVALID_UTF8 = "resbot: input is not valid UTF-8; please send UTF-8 text"
CLI_CHANNEL = "cli"
CORE_CONTENT = ("resolution", "glossary", "templates")  # content files every answering command reads
CHAT_GREETING = "Ask about the resolution (Ctrl-D or /quit to leave; /help for help)."


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(prog="resbot", description="Cited answers about UN GA draft resolution "
                                     "'Improving the coordination of efforts against trafficking in persons'.")
    parser.add_argument("--config", help="path to config.yaml (default: RESBOT_CONFIG or the project's)")
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="answer one question, or one per line from stdin")
    ask.add_argument("question", nargs="*", help="the question (omit to read questions from stdin)")
    ask.add_argument("--json", action="store_true", help="print one JSON object per answer")
    ask.add_argument("--full", action="store_true", help="show the whole cited paragraph, not just a quote")
    chat = sub.add_parser("chat", help="interactive prompt with history and follow-ups")
    chat.add_argument("--json", action="store_true",
                      help="read one message a line from stdin, print one JSON object per message (as ask --json)")
    show = sub.add_parser("show", help="print a chunk: OP5, PP3, PP8(c), FN11, sponsors, about")
    show.add_argument("ref")
    show.add_argument("--json", action="store_true")
    timeline = sub.add_parser("timeline", help="every dated event in the text, oldest first")
    timeline.add_argument("year", nargs="?", type=int, help="only this year")
    timeline.add_argument("--json", action="store_true")
    evaluate = sub.add_parser("eval", help="print the evaluation table (dev and held-out sets)")
    evaluate.add_argument("-v", "--verbose", action="store_true", help="list the dev set's failures")
    evaluate.add_argument("--show-heldout", action="store_true",
                          help="also list the held-out set's failures (reading them spoils it for tuning)")
    report = sub.add_parser("report", help="the most frequent unanswered questions in the unanswered-question log")
    report.add_argument("files", nargs="*", metavar="FILE",
                        help="log files to read (default: unanswered.path from config.yaml and its rotated files)")
    report.add_argument("--json", action="store_true", help="print one JSON object")
    report.add_argument("--top", type=int, default=20, help="how many questions to list (default 20)")
    tg = sub.add_parser("telegram", help="run the Telegram bot by long polling")
    tg.add_argument("--base-url", help="Bot API base URL (a local Bot API server, for example)")
    serve = sub.add_parser("serve", help="run the web app: the page at / and its API, and the Slack, Mattermost, "
                           "Rocket.Chat and Telegram webhooks")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    return parser


def _print_answer(answer: Answer, as_json: bool, full: bool, out: TextIO) -> None:
    if as_json:
        out.write(json.dumps(answer_json(answer), ensure_ascii=False) + "\n")
    else:
        out.write(render_plain(answer, full=full) + "\n")


class BadLine(Exception):
    """A stdin line that is not valid UTF-8."""


def _stdin_questions(stream: TextIO) -> Iterator[str | BadLine]:
    """Lines of stdin; a line that is not UTF-8 yields BadLine instead of stopping the run."""
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        for text in stream:
            yield text.rstrip("\n")
        return
    for raw in buffer:
        try:
            yield raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            yield BadLine()


def cmd_ask(core: Core, args: argparse.Namespace, stdin: TextIO, out: TextIO,
            log: QuestionLog | None = None) -> int:
    """Answer the question given, or each stdin line in order."""
    if args.question:
        answer = core.answer(" ".join(args.question))
        _note(log, answer)
        _print_answer(answer, args.json, args.full, out)
        return EXIT_OK if answer.usable else EXIT_INPUT
    status = EXIT_OK
    for line in _stdin_questions(stdin):
        if isinstance(line, BadLine):
            print(INVALID_UTF8, file=sys.stderr)
            status = EXIT_INPUT
            continue
        if not line.strip():
            continue
        answer = core.answer(line)
        _note(log, answer)
        _print_answer(answer, args.json, args.full, out)
        if not args.json:
            out.write("\n")
        out.flush()
    return status


def _note(log: QuestionLog | None, answer: Answer) -> None:
    """Log ``answer`` as unanswered when it is one and the log is on."""
    if log is not None and not answer.found:
        log.answered(CLI_CHANNEL, answer)


def cmd_show(core: Core, args: argparse.Namespace, out: TextIO) -> int:
    """Print one chunk in full."""
    answer = core.show(args.ref)
    _print_answer(answer, args.json, True, out)
    return EXIT_OK if answer.found else EXIT_INPUT


def cmd_eval(core: Core, args: argparse.Namespace, out: TextIO) -> int:
    """Print the evaluation table."""
    from bot.courtesy_eval import format_courtesy_table, run_courtesy
    from bot.evaluate import format_table, run_all
    from bot.shape_eval import format_shape_table, run_shapes

    reports = run_all(core)
    out.write(format_table(reports) + "\n")
    shapes = run_shapes(core)
    out.write("\nBy question shape (share answered right):\n" + format_shape_table(shapes) + "\n")
    if args.verbose and shapes:
        out.write("\nshapes dev failures:\n" + "\n".join(f"  {f}" for f in shapes[0].failures) + "\n")
    courtesy = run_courtesy(core)
    if courtesy:
        out.write("\nAsked with a greeting or thanks (same answer as the bare question):\n"
                  + format_courtesy_table(courtesy) + "\n")
        if args.verbose:
            out.write("\ncourtesy dev changes:\n" + "\n".join(f"  {f}" for f in courtesy[0].changed[:50]) + "\n")
    for report in reports:
        # The held-out set is measured, never tuned on, so its failures stay hidden unless asked for by name.
        shown = args.show_heldout if report.name.endswith("held-out") else args.verbose
        if shown:
            out.write(f"\n{report.name} failures:\n" + "\n".join(f"  {f}" for f in report.failures) + "\n")
    return EXIT_OK


def cmd_report(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    """Print the most frequent unanswered questions of the log files given or configured."""
    from bot.report import build_report, format_report, log_files

    if args.top < 1:
        raise ConfigError(f"--top must be at least 1, got {args.top}")
    if args.files:
        files = [Path(name) for name in args.files]
    else:
        configured = configured_path(config)
        files = log_files(configured)
        if not files:
            raise ConfigError(f"no unanswered-question log at {configured} (setting unanswered.path"
                              f"{'' if log_settings(config) else '; the log is off: unanswered.enabled'})")
    try:
        report = build_report(files)
    except OSError as exc:
        raise ConfigError(f"cannot read {exc.filename}: {exc.strerror}") from None
    if args.json:
        out.write(json.dumps(report.as_json(args.top), ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(format_report(report, args.top) + "\n")
    return EXIT_OK


def chat_reply(core: Core, line: str, context: Context | None,
               log: QuestionLog | None = None) -> tuple[str, Context | None]:
    """One turn of the chat: the text to print and the context to keep."""
    command = line.strip().lower()
    if command in ("/help", "help", "?"):
        return core.help_text(), context
    if command.startswith("/show "):
        return render_plain(core.show(line.strip()[6:]), full=True), context
    answer = core.answer(line, context=context)
    _note(log, answer)
    return render_plain(answer), advance(context, answer)


def _enable_line_editing() -> None:
    with contextlib.suppress(ImportError):  # readline is not available on every platform
        import readline  # noqa: F401  (imported for its side effect: editing and history in input())


def _is_quit(line: str) -> bool:
    return line.strip().lower() in ("/quit", "/exit", "quit", "exit")


def _interactive_chat(core: Core, out: TextIO, log: QuestionLog | None) -> int:
    """The terminal prompt, with line editing and history."""
    _enable_line_editing()
    out.write(CHAT_GREETING + "\n")
    context: Context | None = None
    while True:
        try:
            line = input(PROMPT)
        except (EOFError, KeyboardInterrupt):
            out.write("\n")
            return EXIT_OK
        if _is_quit(line):
            return EXIT_OK
        if line.strip():
            reply, context = chat_reply(core, line, context, log)
            out.write(reply + "\n\n")


def _piped_lines(stdin: TextIO, handle: Callable[[str], bool]) -> int:
    """Feed each non-empty stdin line to ``handle`` until it returns False; report bad UTF-8 lines."""
    status = EXIT_OK
    for line in _stdin_questions(stdin):
        if isinstance(line, BadLine):
            print(INVALID_UTF8, file=sys.stderr)
            status = EXIT_INPUT
            continue
        if line.strip() and not handle(line):
            break
    return status


def cmd_chat_json(core: Core, stdin: TextIO, out: TextIO, log: QuestionLog | None = None) -> int:
    """One conversation from stdin, one message a line: one ``ask --json`` object per message, in order."""
    context: Context | None = None

    def reply(line: str) -> bool:
        nonlocal context
        answer = core.answer(line, context=context)
        _note(log, answer)
        context = advance(context, answer)
        out.write(json.dumps(answer_json(answer), ensure_ascii=False) + "\n")
        out.flush()
        return True

    return _piped_lines(stdin, reply)


def cmd_chat(core: Core, stdin: TextIO, out: TextIO, log: QuestionLog | None = None) -> int:
    """Interactive prompt on a terminal; otherwise one reply per stdin line, keeping context."""
    if stdin.isatty() and out.isatty():
        return _interactive_chat(core, out, log)
    context: Context | None = None

    def reply(line: str) -> bool:
        nonlocal context
        if _is_quit(line):
            return False
        text, context = chat_reply(core, line, context, log)
        out.write(text + "\n\n")
        out.flush()
        return True

    return _piped_lines(stdin, reply)


def _run_channel(name: str, config: Config, args: argparse.Namespace) -> int:
    """Run `resbot telegram` or `resbot serve`, importing only that channel's stack."""
    if name == "telegram":
        from bot.channels import telegram

        return telegram.run(config, args)
    from bot.channels import web

    return web.run(config, args)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `resbot` console script."""
    args = build_parser().parse_args(argv)
    stdin = sys.stdin
    try:
        config = load_config(args.config)
        log_settings(config)  # checked by every command, so a bad one is named before anything starts
        if args.command == "report":
            return cmd_report(config, args, sys.stdout)
        optional = tuple(key for key in ("countries", "eval") if config.get("content", key)
                         and (key != "eval" or args.command == "eval"))
        check_content(config, CORE_CONTENT + optional)
        if args.command in ("telegram", "serve"):
            return _run_channel(args.command, config, args)
        log = question_log(config) if args.command in ("ask", "chat") else None
        core = get_core(config)
        if args.command == "ask":
            return cmd_ask(core, args, stdin, sys.stdout, log)
        if args.command == "chat":
            if args.json:
                return cmd_chat_json(core, stdin, sys.stdout, log)
            return cmd_chat(core, stdin, sys.stdout, log)
        if args.command == "show":
            return cmd_show(core, args, sys.stdout)
        if args.command == "timeline":
            answer = core.timeline(args.year)
            _print_answer(answer, args.json, False, sys.stdout)
            return EXIT_OK
        return cmd_eval(core, args, sys.stdout)
    except ConfigError as exc:
        print(f"resbot: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except UnicodeDecodeError:
        print(INVALID_UTF8, file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
