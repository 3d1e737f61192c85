"""What the catalogue tests look at: the zh-hans .po/.mo files, the msgids the code marks today, and
visible text that is not marked at all (templates and scripts)."""

import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import polib
from django.template.base import Lexer, TokenType

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES"
DOMAINS = ("django", "djangojs")
# What `make messages` reads: the project's own code, not tests, benchmarks or docs.
SOURCE_DIRS = ("webapp", "recommender", "crawler", "templates", "static")
SOURCE_SUFFIXES = {".py", ".html", ".txt", ".js"}
# Visible words that are the same in every language: the product's name, file formats, units.
UNTRANSLATED_WORDS = {"Mien", "JPEG", "PNG", "WebP", "GIF", "BMP", "MB", "Excel"}
# Attributes a person reads or hears (screen readers), besides the text between tags.
READ_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "content", "value", "label"}
PLACEHOLDER = re.compile(r"%\((\w+)\)[-+ #0]*\d*(?:\.\d+)?[sdfi]|\{(\w*)\}")


def catalogue(domain: str) -> polib.POFile | None:
    path = LOCALE / f"{domain}.po"
    return polib.pofile(str(path)) if path.exists() else None


def placeholders(text: str) -> list[str]:
    return sorted("".join(match) for match in PLACEHOLDER.findall(text))


def untranslated(po: polib.POFile) -> list[str]:
    """Entries a reader would see in English: empty, fuzzy, or with other placeholders than the msgid."""
    problems = []
    for entry in po:
        if entry.obsolete:
            continue
        translations = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        if "fuzzy" in entry.flags:
            problems.append(f"fuzzy: {entry.msgid!r}")
        elif not all(t.strip() for t in translations):
            problems.append(f"untranslated: {entry.msgid!r}")
        elif any(placeholders(t) != placeholders(entry.msgid) for t in translations):
            problems.append(f"placeholders differ: {entry.msgid!r}")
    return problems


def compiled_differences(domain: str) -> list[str]:
    """Where the committed .mo says something other than its .po (a .po edited without `make messages`)."""
    po, mo_path = catalogue(domain), LOCALE / f"{domain}.mo"
    if po is None:
        return []
    if not mo_path.exists():
        return [f"{mo_path.name} is missing"]

    def pairs(entries, compiled):
        out = {}
        for entry in entries:
            if entry.obsolete or (not compiled and ("fuzzy" in entry.flags or not entry.translated())):
                continue
            key = (entry.msgctxt, entry.msgid)
            out[key] = tuple(entry.msgstr_plural[k] for k in sorted(entry.msgstr_plural)) \
                if entry.msgid_plural else entry.msgstr
        return out

    expected, found = pairs(po, False), pairs(polib.mofile(str(mo_path)), True)
    return [f"{key[1]!r}: .po {expected.get(key)!r}, .mo {found.get(key)!r}"
            for key in sorted(set(expected) | set(found), key=str) if expected.get(key) != found.get(key)]


def extracted_msgids(tmp_path: Path) -> dict[str, set[str]]:
    """Run `makemessages` as `make messages` does on a copy of the code; the msgids it finds."""
    for name in SOURCE_DIRS:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=lambda folder, names: [
            n for n in names if (Path(folder) / n).is_file() and Path(n).suffix not in SOURCE_SUFFIXES
            or n == "__pycache__"])
    shutil.copy(ROOT / "manage.py", tmp_path / "manage.py")
    (tmp_path / "locale").mkdir()
    env = {"PATH": "/usr/bin:/bin", "DEBUG": "1", "PYTHONPATH": str(tmp_path), "HOME": str(tmp_path)}
    for domain in DOMAINS:
        subprocess.run([sys.executable, "manage.py", "makemessages", "--locale", "zh_Hans", "--domain", domain,
                        "--no-obsolete"], cwd=tmp_path, env=env, check=True, capture_output=True, timeout=300)
    found = {}
    for domain in DOMAINS:
        path = tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / f"{domain}.po"
        found[domain] = {e.msgid for e in polib.pofile(str(path))} if path.exists() else set()
    return found


# ---- visible text that is not marked for translation -------------------------------------

class VisibleText(HTMLParser):
    """Text between tags and in read-aloud attributes, outside <script> and <style>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.texts, self._hidden = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._hidden += 1
        attributes = dict(attrs)
        for name, value in attrs:
            if name == "value" and attributes.get("type") not in ("submit", "button", "reset"):
                continue  # a form value, not a label
            if name in READ_ATTRIBUTES and value:
                if name != "content" or attributes.get("name") == "description":
                    self.texts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.texts.append(data)


def template_without_translated_parts(source: str) -> str:
    """The template's own HTML with every tag, variable, comment and (block)translate left out."""
    out, skipping = [], None
    for token in Lexer(source).tokenize():
        content = token.contents.split()
        word = content[0] if content else ""
        if skipping:
            if token.token_type == TokenType.BLOCK and word == skipping:
                skipping = None
            continue
        if token.token_type == TokenType.BLOCK and word in ("blocktranslate", "blocktrans", "comment"):
            skipping = "end" + word
        elif token.token_type == TokenType.TEXT:
            out.append(token.contents)
        else:
            out.append(" \u2063 ")  # where a tag or variable was (an invisible separator)
    return "".join(out)


def english_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[A-Za-z][A-Za-z'’-]+", text) if w not in UNTRANSLATED_WORDS]


def unmarked_template_text() -> list[str]:
    problems = []
    for path in sorted((ROOT / "templates").rglob("*.html")) + sorted(ROOT.glob("*/templates/**/*.html")):
        parser = VisibleText()
        parser.feed(template_without_translated_parts(path.read_text(encoding="utf-8")))
        for text in parser.texts:
            if words := english_words(text):
                problems.append(f"{path.relative_to(ROOT)}: {text.strip()!r} ({' '.join(words)})")
    return problems


# A string literal in a script that reads like words for a person ("Try again", "Saved!").
JS_STRING = re.compile(r"""(["'`])((?:\\.|(?!\1).)*)\1""")


def sentences_in_script(source: str) -> list[tuple[int, str]]:
    """(line, literal) for each string literal that reads like words for a person."""
    found = []
    for number, line in enumerate(source.splitlines(), 1):
        if line.lstrip().startswith("//"):
            continue
        for _quote, text in JS_STRING.findall(line.split(" // ")[0]):
            # "Try again", "Saved.", "Hello, world": a capitalised phrase or a sentence; not
            # "tag tag-shared" (class names) or "application/json".
            if re.match(r"\s*[A-Z][a-z]+,?\s+[A-Za-z]", text) or re.search(r"[A-Za-z]{2,}[.!?…]$", text):
                found.append((number, text))
    return found


def unmarked_script_text() -> list[str]:
    return [f"{path.relative_to(ROOT)}:{number}: {text!r}"
            for path in sorted((ROOT / "static").rglob("*.js"))
            for number, text in sentences_in_script(path.read_text(encoding="utf-8"))]
