"""A small command-line parser with the part of argparse's interface pyrunc uses.

argparse and the gettext look-ups it makes cost more than some whole pyrunc
commands, and every pyrunc call pays for its parser. This one knows options
(``--name value``, ``--name=value``, ``-n value``, boolean switches that also
take ``=true``/``=false``, options that may repeat), positionals (required,
``?`` and a trailing ``*`` that takes the rest of the line verbatim) and
``--help``.
"""

from __future__ import annotations

import sys

from pyrunc.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


class Namespace:
    """The parsed values, as attributes named after each argument's dest."""

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(name)

    def __setattr__(self, name: str, value: Any) -> None:
        self.__dict__[name] = value

    def __repr__(self) -> str:
        return f"Namespace({vars(self)})"


class HelpShown(Exception):
    """Raised after --help has been printed; the command then exits 0."""


class _Argument:
    def __init__(
        self,
        names: tuple[str, ...],
        dest: str,
        switch: bool,
        default: object,
        convert: Callable[[str], object] | None,
        choices: list[str] | None,
        nargs: str | None,
        help_text: str,
    ) -> None:
        self.names = names
        self.dest = dest
        self.switch = switch
        self.default = default
        self.convert = convert
        self.choices = choices
        self.nargs = nargs
        self.help = help_text
        self.repeat = False

    @property
    def positional(self) -> bool:
        return not self.names[0].startswith("-")

    def value(self, text: str) -> object:
        if self.choices is not None and text not in self.choices:
            raise UsageError(f"{self.names[-1]}: {text!r} is not one of {self.choices}")
        if self.convert is None:
            return text
        try:
            return self.convert(text)
        except ValueError:
            raise UsageError(f"{self.names[-1]}: invalid value {text!r}") from None


def _dest(names: tuple[str, ...]) -> str:
    longest = max(names, key=len)
    return longest.lstrip("-").replace("-", "_")


class Parser:
    """Parse one command's arguments."""

    def __init__(self, prog: str, description: str = "") -> None:
        self.prog = prog
        self.description = description
        self.arguments: list[_Argument] = []
        self.commands: dict[str, str] = {}

    def add_argument(
        self,
        *names: str,
        action: str | None = None,
        default: object = None,
        type: Callable[[str], object] | None = None,
        choices: list[str] | None = None,
        nargs: str | None = None,
        help: str = "",
        metavar: str | None = None,
        dest: str | None = None,
    ) -> None:
        """Declare an option or positional, as argparse's add_argument does.

        action is "store_true" for a switch or "append" for an option whose
        values, one per use, are collected in a list.
        """
        switch = action == "store_true"
        if switch and default is None:
            default = False
        if nargs == "*" and default is None:
            default = []
        shown = names if names[0].startswith("-") else (metavar or names[0],)
        argument = _Argument(
            shown, dest or _dest(names), switch, default, type, choices, nargs, help
        )
        argument.repeat = action == "append"
        self.arguments.append(argument)

    def parse_args(self, argv: list[str]) -> Namespace:
        """Return the values argv gives, with defaults for the rest.

        Raises:
            UsageError: an unknown option, a missing value or a missing argument.
            HelpShown: --help was asked for and printed.
        """
        namespace = Namespace()
        for argument in self.arguments:
            default = argument.default
            if argument.repeat:
                default = list(default) if isinstance(default, list) else []
            setattr(namespace, argument.dest, default)
        positionals = [a for a in self.arguments if a.positional]
        words = self._read_options(argv, namespace, positionals)
        self._assign(words, namespace, positionals)
        return namespace

    def _option(self, name: str) -> _Argument:
        for argument in self.arguments:
            if name in argument.names and not argument.positional:
                return argument
        raise UsageError(f"flag provided but not defined: {name}")

    def _read_options(
        self, argv: list[str], namespace: Namespace, positionals: list[_Argument]
    ) -> list[str]:
        words: list[str] = []
        # a command takes the rest of the line; so does a trailing "*"
        # positional once the ones before it are filled
        rest_at = -1
        if self.commands:
            rest_at = 0
        elif positionals and positionals[-1].nargs == "*":
            rest_at = len(positionals) - 1
        i = 0
        while i < len(argv):
            word = argv[i]
            i += 1
            if word == "--":
                words += argv[i:]
                break
            if word in ("-h", "--help"):
                sys.stdout.write(self.format_help())
                raise HelpShown
            if not word.startswith("-") or word == "-":
                words.append(word)
                if len(words) - 1 == rest_at:
                    words += argv[i:]
                    break
                continue
            name, has_value, text = word.partition("=")
            argument = self._option(name)
            if argument.switch:
                setattr(namespace, argument.dest, not has_value or text == "true")
                continue
            if not has_value:
                if i >= len(argv):
                    raise UsageError(f"flag needs an argument: {name}")
                text, i = argv[i], i + 1
            if argument.repeat:
                getattr(namespace, argument.dest).append(argument.value(text))
            else:
                setattr(namespace, argument.dest, argument.value(text))
        return words

    def _assign(
        self, words: list[str], namespace: Namespace, positionals: list[_Argument]
    ) -> None:
        for argument in positionals:
            if argument.nargs == "*":
                setattr(namespace, argument.dest, list(words))
                words = []
            elif words:
                setattr(namespace, argument.dest, argument.value(words.pop(0)))
            elif argument.nargs != "?":
                raise UsageError(f"{self.prog}: missing argument {argument.names[0]}")
        if words:
            raise UsageError(f"{self.prog}: unexpected argument {words[0]!r}")

    def format_help(self) -> str:
        """Return the usage text --help prints."""
        usage = " ".join(
            a.names[0] if a.positional else f"[{a.names[-1]}]" for a in self.arguments
        )
        lines = [f"usage: {self.prog} {usage}".rstrip(), ""]
        if self.description:
            lines += [self.description, ""]
        if self.commands:
            lines.append("commands:")
            lines += [f"  {name:<12} {text}" for name, text in self.commands.items()]
            lines.append("")
        if self.arguments:
            lines.append("options:")
            for a in self.arguments:
                lines.append(f"  {', '.join(a.names):<28} {a.help}".rstrip())
        return "\n".join(lines) + "\n"
