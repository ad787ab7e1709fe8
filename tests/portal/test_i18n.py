"""German first, English available: complete catalogs, no hard-coded text in templates, a switch that keeps the page."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from fastapi.testclient import TestClient

from urbandata.portal import i18n
from urbandata.portal.rendering import TEMPLATES

# proper names that read the same in every language
NAMES = {"curl", "Python", "R"}
TEXT_ATTRS = {"aria-label", "title", "placeholder", "alt", "summary"}
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)


def _strings(message: object) -> list[str]:
    return list(message) if isinstance(message, tuple | list) else [str(message)]


def test_every_message_has_an_english_translation_and_the_catalogs_are_up_to_date() -> None:
    english = i18n.read_catalog("en")
    german = i18n.read_catalog("de")
    missing = [m.id for m in english if m.id and not all(s.strip() for s in _strings(m.string))]
    assert missing == [], f"untranslated into English: {missing}"
    extracted = {m.id for m in i18n.extract() if m.id}
    stale = sorted(str(x) for x in extracted - {m.id for m in english if m.id})
    assert stale == [], f"run `python -m urbandata.portal.i18n update` and translate: {stale}"
    assert extracted <= {m.id for m in german if m.id}
    placeholders = re.compile(r"%\(\w+\)s")
    for m in english:
        if m.id:
            assert sorted(placeholders.findall(_strings(m.id)[0])) == sorted(
                placeholders.findall(_strings(m.string)[-1])
            ), m.id


class _TextFinder(HTMLParser):
    """Collects text and text-bearing attributes that are not produced by a template expression."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("pre", "code", "style", "script"):
            self.skip += 1
        for name, value in attrs:
            if name in TEXT_ATTRS and value and re.search(r"[A-Za-zÄÖÜäöüß]{2,}", value):
                self.found.append(f"{tag}[{name}]={value!r}")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("pre", "code", "style", "script"):
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        words = re.findall(r"[A-Za-zÄÖÜäöüß]{2,}|\bR\b", data)
        if not self.skip and [w for w in words if w not in NAMES]:
            self.found.append(data.strip())


def test_templates_contain_no_text_outside_gettext() -> None:
    problems = {}
    for path in sorted(TEMPLATES.rglob("*.html")):
        source = path.read_text(encoding="utf-8")
        source = re.sub(r"\{%\s*trans\b.*?%\}.*?\{%\s*endtrans\s*%\}", " ", source, flags=re.S)
        finder = _TextFinder()
        finder.feed(_JINJA.sub(" ", source))
        if finder.found:
            problems[str(path.relative_to(TEMPLATES))] = finder.found
    assert problems == {}


def test_german_by_default_english_on_request_and_the_switch_keeps_the_page(web: TestClient) -> None:
    web.cookies.clear()
    page = web.get("/datasets/bundestagswahl-2013-koeln")
    assert '<html lang="de">' in page.text and "Zum Inhalt springen" in page.text and "Lizenz" in page.text
    assert 'href="/datasets/bundestagswahl-2013-koeln?lang=en"' in page.text  # the switch keeps the page

    english = web.get("/datasets/bundestagswahl-2013-koeln?lang=en")
    assert '<html lang="en">' in english.text and "Skip to content" in english.text and "Licence" in english.text
    assert english.headers["content-language"] == "en"
    # the dataset's own German title is marked as German inside the English page
    assert '<h1 lang="de">Bundestagswahl 2013' in english.text
    # the choice sticks (cookie) on the next page without ?lang
    assert '<html lang="en">' in web.get("/datasets?q=Parken").text
    assert "Data of the city of Kaiserslautern" in web.get("/").text
    back = web.get("/?lang=de")
    assert '<html lang="de">' in back.text and "Daten der Stadt Kaiserslautern" in back.text
    web.cookies.clear()


def test_search_keeps_its_filters_when_switching_language(web: TestClient) -> None:
    web.cookies.clear()
    page = web.get("/datasets?q=Wahl&theme=GOVE&sort=title")
    assert 'href="/datasets?q=Wahl&amp;theme=GOVE&amp;sort=title&amp;lang=en"' in page.text
    english = web.get("/datasets?q=Wahl&theme=GOVE&sort=title&lang=en")
    assert "Government and public sector" in english.text  # facet labels come from the vocabulary in English
    web.cookies.clear()
