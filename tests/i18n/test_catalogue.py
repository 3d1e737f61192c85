"""The zh-hans catalogue is complete, compiled, and covers every string the code shows.

After merging new strings: `make messages`, translate the new msgids in locale/zh_Hans/LC_MESSAGES/
(no "#, fuzzy" left), `make messages` again to compile, and these pass.
"""

import shutil

import pytest

from tests.conftest import skip_or_fail
from tests.i18n import catalogue as cat

FIX = "run `make messages`, translate what it added in locale/zh_Hans/LC_MESSAGES/*.po, then `make messages` again"


def test_it_has_a_django_catalogue_with_plural_forms_for_chinese():
    po = cat.catalogue("django")
    assert po is not None and len(po) > 300
    assert po.metadata["Plural-Forms"].startswith("nplurals=1;")


@pytest.mark.parametrize("domain", cat.DOMAINS)
def test_every_msgid_is_translated_and_none_is_fuzzy(domain):
    po = cat.catalogue(domain)
    if po is None:
        pytest.skip(f"no {domain} catalogue: the scripts take their strings from the templates")
    assert cat.untranslated(po) == [], FIX


@pytest.mark.parametrize("domain", cat.DOMAINS)
def test_the_committed_mo_says_what_the_po_says(domain):
    assert cat.compiled_differences(domain) == [], FIX


def test_the_catalogue_holds_every_msgid_the_code_marks(tmp_path):
    if not shutil.which("xgettext"):
        skip_or_fail("GNU gettext (xgettext) is not installed: `make i18n-tools`")
    marked = cat.extracted_msgids(tmp_path / "copy")
    assert marked["django"], "makemessages found nothing: the test looks in the wrong place"
    for domain, msgids in marked.items():
        po = cat.catalogue(domain)
        known = {entry.msgid for entry in po} if po is not None else set()
        assert sorted(msgids - known) == [], f"{domain}: new strings not in the catalogue; {FIX}"


def test_no_template_shows_text_outside_translation_tags():
    assert cat.unmarked_template_text() == []


def test_no_script_writes_a_sentence_of_its_own():
    """Scripts take every string from the page (the mien-strings JSON that the template translates)."""
    assert cat.unmarked_script_text() == []


def test_the_scanners_catch_unmarked_text(tmp_path):
    """The two checks above would fail on the mistakes they are for."""
    html = '{% load i18n %}<h1>{% translate "Hello" %}</h1><p>Forgot to translate</p><input placeholder="Your name">'
    visible = cat.VisibleText()
    visible.feed(cat.template_without_translated_parts(html))
    assert [t for t in visible.texts if cat.english_words(t)] == ["Forgot to translate", "Your name"]
    translated = '{% blocktranslate %}Hi {{ name }}{% endblocktranslate %}<script>const s = "x y";</script> Mien'
    visible = cat.VisibleText()
    visible.feed(cat.template_without_translated_parts(translated))
    assert [t for t in visible.texts if cat.english_words(t)] == []
    assert cat.placeholders("%(n)d songs for %(emotion)s") == ["emotion", "n"]
    script = 'el.textContent = "Try again later";\nfetch(url, { headers: { "Accept": "application/json" } });\n' \
             'note.textContent = `Saved.`;\nel.classList.add("tag tag-shared");'
    assert [text for _line, text in cat.sentences_in_script(script)] == ["Try again later", "Saved."]
