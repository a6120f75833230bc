# The app's one message catalogue: every user-facing string goes through t() or tn(), in the user's language.
"""Languages, time zones and the message catalogue of the Streamlit app.

- Source strings are English and are their own message ids, with `{named}` placeholders that t()
  fills in: `t("Saved {sku}.", sku=sku)`, `tn("{n} product", "{n} products", count)`.
- Translations live in gettext `.po` files read with Babel: one catalogue per language,
  `streamlit_app/locale/<lang>/LC_MESSAGES/messages.po`. (While work is in flight a language may also
  have fragments under `locale/<lang>/parts/`; `python -m streamlit_app.i18n merge` folds them in.)
- The language and time zone are per-user settings (the users table); until a user chooses, the
  browser's (st.context.locale, st.context.timezone) are used, then English and UTC.

Vocabularies (statuses, roles, reasons) are declared once with `N_("synced")`, which marks them for
the catalogue, and shown with `tv(value)`.

Errors raised by the core (syncstore/) carry a literal English template and its parameters
(syncstore/errors.py); `translate(error)` shows one in the user's language. Their templates are part
of the catalogue: `check` and `todo` read the core's raise sites (and `msg()`/`InvalidValue()`) too.

`python -m streamlit_app.i18n check [FILES]` lists what breaks the catalogue: a msgid built at run time,
a message with no translation (or with other placeholders), st.* calls given bare text, and core
error messages built with f-strings instead of a template (by default: the app and the core).
`python -m streamlit_app.i18n todo FRAGMENT.po [FILES]` appends an empty entry per untranslated message.
"""

from __future__ import annotations

import ast
import string
import sys
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from syncstore.errors import VOCABULARY_PARAMS, InvalidInput, Message, message_of
from syncstore.security.preferences import LANGUAGES

APP_DIR = Path(__file__).resolve().parent
LOCALE_DIR = APP_DIR / "locale"
SOURCE_LANGUAGE = "en"
DEFAULT_TIME_ZONE = "UTC"
# st.session_state keys holding the signed-in user's choices (None: follow the browser).
LANGUAGE_KEY = "app_language"
TIME_ZONE_KEY = "app_time_zone"


# --- the catalogue --------------------------------------------------------------------------


@dataclass(frozen=True)
class Messages:
    """One language's translations: simple messages by id, plural messages by (singular, plural)."""

    simple: dict[str, str]
    plural: dict[tuple[str, str], tuple[str, ...]]


def catalogue_files(language: str) -> list[Path]:
    """The .po files of `language`: the catalogue, then any fragments not merged yet."""
    base = LOCALE_DIR / language
    files = [base / "LC_MESSAGES" / "messages.po"]
    files += sorted((base / "parts").glob("*.po"))
    return [path for path in files if path.is_file()]


def _read(path: Path, language: str) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


@cache
def messages(language: str) -> Messages:
    """The translations of `language` (empty for the source language), read once per process."""
    simple: dict[str, str] = {}
    plural: dict[tuple[str, str], tuple[str, ...]] = {}
    if language == SOURCE_LANGUAGE:
        return Messages(simple, plural)
    for path in catalogue_files(language):
        for message in _read(path, language):
            if not message.id:
                continue  # the header
            if isinstance(message.id, tuple | list):
                forms = tuple(str(form) for form in (message.string or ()) if form)
                if forms:
                    plural[(str(message.id[0]), str(message.id[1]))] = forms
            elif message.string:
                simple[str(message.id)] = str(message.string)
    return Messages(simple, plural)


# --- the user's language and time zone -----------------------------------------------------


def _session_value(key: str) -> str | None:
    try:
        import streamlit as st

        value = st.session_state.get(key)
    except Exception:  # no Streamlit session (a script, a worker)
        return None
    return value if isinstance(value, str) and value else None


def _browser(attribute: str) -> str | None:
    try:
        import streamlit as st

        value = getattr(st.context, attribute, None)
    except Exception:  # no browser connection
        return None
    return value if isinstance(value, str) and value else None


def language_of(locale: str | None) -> str:
    """A supported language for a browser locale ("ms-MY" -> "ms"); English when unsupported."""
    if locale:
        code = locale.replace("_", "-").split("-")[0].lower()
        if code in LANGUAGES:
            return code
    return SOURCE_LANGUAGE


def current_language() -> str:
    """The signed-in user's language, else the browser's, else English."""
    chosen = _session_value(LANGUAGE_KEY)
    if chosen in LANGUAGES:
        return chosen
    return language_of(_browser("locale"))


def valid_time_zone(name: str | None) -> str | None:
    """`name` if it is an IANA time zone this machine knows, else None."""
    if not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


@cache
def time_zone_names() -> tuple[str, ...]:
    """Every IANA time zone name, sorted (for pickers)."""
    return tuple(sorted(available_timezones()))


def current_time_zone() -> ZoneInfo:
    """The signed-in user's time zone, else the browser's, else UTC."""
    for name in (_session_value(TIME_ZONE_KEY), _browser("timezone")):
        if valid_time_zone(name):
            return ZoneInfo(str(name))
    return ZoneInfo(DEFAULT_TIME_ZONE)


# --- translating ----------------------------------------------------------------------------


def _format(text: str, values: dict[str, Any]) -> str:
    if not values:
        return text
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError):  # a translation with a broken placeholder: the English still reads
        return text.format_map(_Missing(values)) if "{" in text else text


class _Missing(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def t(message: str, /, **values: Any) -> str:
    """`message` in the user's language, its `{placeholders}` filled from `values`."""
    translated = messages(current_language()).simple.get(message, message)
    return _format(translated, values) if values else translated


def tn(singular: str, plural: str, n: int, /, **values: Any) -> str:
    """The form of `singular`/`plural` for `n`, in the user's language; `{n}` is filled in too."""
    language = current_language()
    forms = messages(language).plural.get((singular, plural))
    if forms:
        # Bahasa Malaysia has one form; a language with more would pick by Babel's plural rule.
        index = 0 if len(forms) == 1 or language == "ms" else (0 if n == 1 else 1)
        text = forms[min(index, len(forms) - 1)]
    else:
        text = singular if n == 1 else plural
    return _format(text, {"n": n, **values})


def N_(message: str) -> str:
    """Marks `message` for the catalogue without translating it (gettext's N_): for vocabularies
    (statuses, roles, reasons) declared once and translated where shown with tv()."""
    return message


def tv(value: str, /) -> str:
    """A value of a vocabulary declared with N_() (a status, a role), in the user's language."""
    return messages(current_language()).simple.get(value, value)


def translate(message: Message | BaseException, /) -> str:
    """A core error (or one of its messages) in the user's language: its template translated, then filled.

    Parameters that are messages are translated too, and vocabulary words (VOCABULARY_PARAMS) with tv();
    an error with no template shows its own text. An InvalidInput reads "invalid input (2 fields): a: ...; b: ...".
    """
    if isinstance(message, InvalidInput):
        count = len(message.messages)
        header = tn("invalid input ({n} field)", "invalid input ({n} fields)", count)
        detail = "; ".join(f"{name}: {translate(item)}" for name, item in message.messages.items())
        return f"{header}: {detail}" if detail else header
    if isinstance(message, BaseException):
        found = message_of(message)
        if not found.template:
            return str(message)
        message = found
    translated = messages(current_language()).simple.get(message.template, message.template)
    values = {name: _translated_value(name, value) for name, value in message.params.items()}
    return _format(translated, values) if values else translated


def _translated_value(name: str, value: Any) -> Any:
    if isinstance(value, Message):
        return translate(value)
    if name in VOCABULARY_PARAMS and isinstance(value, str):
        return tv(value)
    return value


# --- checking and merging (a developer's command) -----------------------------------------------------


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text}"


@dataclass(frozen=True)
class Use:
    """A message used in code: its id (singular, or (singular, plural)) and where."""

    msgid: str | tuple[str, str]
    path: Path
    line: int


# st.* calls whose first argument is not text people read (a key, a path, data, code).
_NOT_TEXT_CALLS = frozenset(
    {
        "Page",
        "page_link",
        "switch_page",
        "form",
        "container",
        "empty",
        "columns",
        "fragment",
        "cache_data",
        "cache_resource",
        "navigation",
        "dataframe",
        "data_editor",
        "table",
        "line_chart",
        "bar_chart",
        "area_chart",
        "scatter_chart",
        "altair_chart",
        "vega_lite_chart",
        "plotly_chart",
        "json",
        "code",
        "html",
        "image",
        "audio",
        "video",
        "set_page_config",
        "get",
        "pop",
        "query_params",
        "session_state",
        "secrets",
        "context",
        "rerun",
        "stop",
        "logout",
        "login",
        "download_button_data",
        "latex",
        "map",
        "pydeck_chart",
        "iframe",
        "spinner_style",
        "Progress",
    }
)
# Keywords of st.* calls that carry text people read.
_TEXT_KEYWORDS = frozenset(
    {"label", "help", "placeholder", "caption", "body", "title", "text", "page_title", "value_label", "tooltip"}
)


def _has_words(text: str) -> bool:
    cleaned = text
    for prefix in (":material/",):
        if cleaned.startswith(prefix):
            return False
    letters = sum(1 for char in cleaned if char.isalpha())
    return letters >= 2


def _is_bare_text(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _has_words(node.value)
    if isinstance(node, ast.JoinedStr):
        return any(
            isinstance(part, ast.Constant) and isinstance(part.value, str) and _has_words(part.value)
            for part in node.values
        )
    if isinstance(node, ast.List | ast.Tuple):
        return any(_is_bare_text(element) for element in node.elts)
    if isinstance(node, ast.BinOp):  # "a" + b, "..." % x
        return _is_bare_text(node.left) or _is_bare_text(node.right)
    return False


def _rooted_at_st(node: ast.expr) -> list[str] | None:
    """The attribute chain of a call on `st` ("st.sidebar.button" -> ["sidebar", "button"]), else None."""
    chain: list[str] = []
    while isinstance(node, ast.Attribute):
        chain.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and node.id == "st" and chain:
        return list(reversed(chain))
    return None


def _call_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) and node.func.value.id == "i18n":
        return node.func.attr
    return None


def scan(path: Path) -> tuple[list[Use], list[Problem]]:
    """The messages `path` uses and what it does wrong (runtime msgids, bare text given to st.*)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    uses: list[Use] = []
    problems: list[Problem] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node)
        if name in {"t", "tn", "N_"}:
            wanted = 2 if name == "tn" else 1
            texts = node.args[:wanted]
            if len(texts) < wanted or not all(
                isinstance(arg, ast.Constant) and isinstance(arg.value, str) for arg in texts
            ):
                problems.append(Problem(path, node.lineno, f"{name}() needs literal text (placeholders, no f-string)"))
                continue
            values = [str(arg.value) for arg in texts if isinstance(arg, ast.Constant)]
            uses.append(Use((values[0], values[1]) if name == "tn" else values[0], path, node.lineno))
            continue
        chain = _rooted_at_st(node.func)
        if chain is None or chain[0] in {"session_state", "query_params", "secrets", "context"}:
            continue
        function = chain[-1]
        if function in _NOT_TEXT_CALLS:
            candidates = []
        else:
            candidates = list(node.args[:1])
            if function == "tabs":
                candidates = list(node.args[:1])
        candidates += [keyword.value for keyword in node.keywords if keyword.arg in _TEXT_KEYWORDS]
        if any(_is_bare_text(candidate) for candidate in candidates):
            problems.append(Problem(path, node.lineno, f"st.{'.'.join(chain)}() is given text not passed through t()"))
    return uses, problems


def placeholders(text: str) -> set[str]:
    """The `{named}` fields of a message."""
    names: set[str] = set()
    for _, field, _, _ in string.Formatter().parse(text):
        if field is not None:
            names.add(field.split(".")[0].split("[")[0].split("!")[0].split(":")[0])
    return names


def app_files() -> list[Path]:
    """Every Python file of the app."""
    return sorted(path for path in APP_DIR.rglob("*.py") if "locale" not in path.parts)


# --- the core's error messages ----------------------------------------------------------------

ROOT_DIR = APP_DIR.parent
# Where the errors the app shows are raised: their literal templates belong to the catalogue too.
CORE_PACKAGES = ("syncstore",)


def core_files() -> list[Path]:
    """Every Python file of the packages whose error messages the app shows."""
    return sorted(path for package in CORE_PACKAGES for path in (ROOT_DIR / package).rglob("*.py"))


@dataclass(frozen=True)
class ErrorClass:
    """An exception class of the core (a SyncStoreError): where its calls carry their template."""

    name: str
    fields: bool  # an InvalidInput: the first argument maps fields to messages
    message_index: int | None  # the positional argument that is the template (None: the call holds data)


def _class_info(trees: Iterable[ast.Module]) -> tuple[dict[str, list[str]], dict[str, int | None]]:
    """Each class's base names, and for those with an __init__ the position of its `message` argument."""
    bases: dict[str, list[str]] = {}
    inits: dict[str, int | None] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            bases[node.name] = [
                base.id if isinstance(base, ast.Name) else base.attr
                for base in node.bases
                if isinstance(base, ast.Name | ast.Attribute)
            ]
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                    names = [arg.arg for arg in [*item.args.posonlyargs, *item.args.args][1:]]
                    inits[node.name] = names.index("message") if "message" in names else None
    return bases, inits


@cache
def _core_class_info() -> tuple[dict[str, list[str]], dict[str, int | None]]:
    return _class_info(_core_trees())


def _error_classes(trees: Iterable[ast.Module]) -> dict[str, ErrorClass]:
    """SyncStoreError and its subclasses, found by name in the core and `trees` (no import needed)."""
    core_bases, core_inits = _core_class_info()
    extra_bases, extra_inits = _class_info(trees)
    bases = {**core_bases, **extra_bases}
    inits = {**core_inits, **extra_inits}
    found: dict[str, ErrorClass] = {
        "SyncStoreError": ErrorClass("SyncStoreError", False, 0),
        "InvalidInput": ErrorClass("InvalidInput", True, None),
        "VersionConflict": ErrorClass("VersionConflict", False, None),
    }
    changed = True
    while changed:
        changed = False
        for name, parents in bases.items():
            if name in found:
                continue
            parent = next((found[base] for base in parents if base in found), None)
            if parent is not None:
                index = inits.get(name, parent.message_index)
                found[name] = ErrorClass(name, parent.fields, None if parent.fields else index)
                changed = True
    return found


# Calls whose first argument is a message template wherever they appear in the core.
_TEMPLATE_CALLS = frozenset({"msg", "InvalidValue", "Message"})
# Calls that carry a template at another position: RowError(line, field, "template" or msg(...)).
_TEMPLATE_ARGUMENTS = {"RowError": 2}


def _callee(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _template_use(node: ast.expr, path: Path, uses: list[Use], problems: list[Problem]) -> None:
    """`node` given as a template: a literal is a use; text built at run time is a problem; a variable passes."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        if _has_words(node.value):
            uses.append(Use(node.value, path, node.lineno))
    elif isinstance(node, ast.IfExp):  # "one form" if n == 1 else "the other"
        _template_use(node.body, path, uses, problems)
        _template_use(node.orelse, path, uses, problems)
    elif isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod) and _is_bare_text(node)
    ):
        problems.append(
            Problem(path, node.lineno, "an error message needs a literal template (placeholders, no f-string)")
        )
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and isinstance(node.func.value, ast.Constant)
    ):
        problems.append(
            Problem(path, node.lineno, "an error message needs a literal template (give params, not .format)")
        )


def scan_core(paths: Iterable[Path]) -> tuple[list[Use], list[Problem]]:
    """The error templates of the core files `paths` and the messages built at run time there."""
    trees = [(path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))) for path in paths]
    classes = _error_classes(tree for _, tree in trees)
    uses: list[Use] = []
    problems: list[Problem] = []
    for path, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.AnnAssign | ast.Assign) and _assigns(node, "PYDANTIC_TEMPLATES") and node.value:
                for constant in ast.walk(node.value):  # pydantic's messages as templates (syncstore/errors.py)
                    if isinstance(constant, ast.Constant) and isinstance(constant.value, str) and " " in constant.value:
                        uses.append(Use(constant.value, path, constant.lineno))
            if isinstance(node, ast.ClassDef) and node.name in classes:
                for call in ast.walk(node):  # super().__init__("template", ...) inside an error class
                    if (
                        isinstance(call, ast.Call)
                        and isinstance(call.func, ast.Attribute)
                        and call.func.attr == "__init__"
                        and call.args
                    ):
                        _template_use(call.args[0], path, uses, problems)
            if not isinstance(node, ast.Call):
                continue
            name = _callee(node)
            if name in _TEMPLATE_CALLS and node.args:
                _template_use(node.args[0], path, uses, problems)
            index = _TEMPLATE_ARGUMENTS.get(name or "")
            if index is not None and len(node.args) > index:
                _template_use(node.args[index], path, uses, problems)
            error_class = classes.get(name or "")
            if error_class is None or not node.args:
                continue
            if error_class.fields:
                if isinstance(node.args[0], ast.Dict):
                    for value in node.args[0].values:
                        _template_use(value, path, uses, problems)
            elif error_class.message_index is not None and len(node.args) > error_class.message_index:
                _template_use(node.args[error_class.message_index], path, uses, problems)
    return uses, problems


def _assigns(node: ast.AnnAssign | ast.Assign, name: str) -> bool:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return any(isinstance(target, ast.Name) and target.id == name for target in targets)


@cache
def _core_trees() -> tuple[ast.Module, ...]:
    return tuple(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)) for path in core_files())


def _is_core(path: Path) -> bool:
    return any(path.resolve().is_relative_to(ROOT_DIR / package) for package in CORE_PACKAGES)


def _uses_and_problems(path: Path, core: Collection[Path] = ()) -> tuple[list[Use], list[Problem]]:
    return scan_core([path]) if _is_core(path) or path in core else scan(path)


def all_files() -> list[Path]:
    """What `check` and `todo` look at by default: the app and the core whose errors it shows."""
    return app_files() + core_files()


def check(paths: Iterable[Path], languages: Iterable[str] = ("ms",), core: Collection[Path] = ()) -> list[Problem]:
    """Everything in `paths` that keeps the catalogue from being complete in `languages`.

    Files of CORE_PACKAGES (and those in `core`) are read for their error templates, the others as app code.
    """
    problems: list[Problem] = []
    for path in paths:
        uses, found = _uses_and_problems(path, core)
        problems += found
        for language in languages:
            catalogue = messages(language)
            for use in uses:
                if isinstance(use.msgid, tuple):
                    forms = catalogue.plural.get(use.msgid)
                    wanted = placeholders(use.msgid[1]) | {"n"}
                    if not forms:
                        problems.append(Problem(path, use.line, f"no {language} translation of {use.msgid[1]!r}"))
                    elif any(placeholders(form) - wanted for form in forms):
                        problems.append(
                            Problem(
                                path, use.line, f"{language} translation of {use.msgid[1]!r} has other placeholders"
                            )
                        )
                else:
                    translated = catalogue.simple.get(use.msgid)
                    if translated is None:
                        problems.append(Problem(path, use.line, f"no {language} translation of {use.msgid!r}"))
                    elif placeholders(translated) != placeholders(use.msgid):
                        problems.append(
                            Problem(path, use.line, f"{language} translation of {use.msgid!r} has other placeholders")
                        )
    return problems


def used_messages(paths: Iterable[Path]) -> Iterator[Use]:
    for path in paths:
        yield from _uses_and_problems(path)[0]


def merge(language: str) -> Path:
    """Fold `language`'s fragments into its one catalogue (messages used by no code are dropped) and delete them."""
    used = {use.msgid for use in used_messages(all_files())}
    target = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    merged = Catalog(
        locale=language,
        project="SyncStore",
        version="0.1",
        domain="messages",
        copyright_holder="SyncStore",
        msgid_bugs_address="",
        last_translator="SyncStore",
        language_team=LANGUAGES.get(language, language),
        fuzzy=False,
    )
    for path in catalogue_files(language):
        for message in _read(path, language):
            key = tuple(message.id) if isinstance(message.id, tuple | list) else message.id
            if message.id and key in used and message.string:
                merged.add(message.id, message.string)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as handle:
        write_po(handle, merged, width=120, sort_output=True, omit_header=False)
    for fragment in sorted((LOCALE_DIR / language / "parts").glob("*.po")):
        fragment.unlink()
    messages.cache_clear()
    return target


def _po_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def todo(fragment: Path, paths: Iterable[Path], language: str = "ms") -> int:
    """Append to `fragment` an empty entry for every message of `paths` with no `language` translation yet."""
    catalogue = messages(language)
    seen: set[str | tuple[str, str]] = set()
    entries: list[str] = []
    for use in used_messages(paths):
        if use.msgid in seen:
            continue
        seen.add(use.msgid)
        if isinstance(use.msgid, tuple):
            if use.msgid not in catalogue.plural:
                singular, plural = use.msgid
                entries.append(
                    f'msgid {_po_string(singular)}\nmsgid_plural {_po_string(plural)}\nmsgstr[0] ""\nmsgstr[1] ""\n'
                )
        elif use.msgid not in catalogue.simple:
            entries.append(f'msgid {_po_string(use.msgid)}\nmsgstr ""\n')
    fragment.parent.mkdir(parents=True, exist_ok=True)
    with fragment.open("a", encoding="utf-8") as handle:
        for entry in entries:
            handle.write("\n" + entry)
    return len(entries)


def main(argv: list[str]) -> int:
    command, *rest = argv or ["check"]
    if command == "check":
        paths = [Path(arg).resolve() for arg in rest] or all_files()
        problems = check(paths)
        for problem in problems:
            print(problem)
        print(f"{len(problems)} problem(s) in {len(paths)} file(s)", file=sys.stderr)
        return 1 if problems else 0
    if command == "todo" and rest:
        fragment, *files = rest
        paths = [Path(arg).resolve() for arg in files] or all_files()
        print(f"{todo(Path(fragment), paths)} entries to translate appended to {fragment}")
        return 0
    if command == "merge":
        for language in LANGUAGES:
            if language != SOURCE_LANGUAGE:
                print(merge(language))
        return 0
    print("usage: python -m streamlit_app.i18n check [FILES] | todo FRAGMENT.po [FILES] | merge", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
