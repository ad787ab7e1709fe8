"""Languages of the portal: German first, English available (Babel message catalogs).

Message ids are the German texts, so German is the source language and a missing English translation
falls back to German, never to an empty string. The catalogs live as `.po` files in
`urbandata/portal/locale/<lang>/LC_MESSAGES/messages.po`; they are compiled in memory when the portal
first renders a page in that language, so a plain `pip install -e .` (or a wheel) needs no build step
and no `.mo` files are committed.

Maintainers refresh the catalogs after changing texts with::

    .venv/bin/python -m urbandata.portal.i18n update

which extracts every `gettext`/`_`/`ngettext` string from the templates and the portal's Python
modules and merges them into both `.po` files (new English entries stay empty until translated; the
test `tests/portal/test_i18n.py` fails until they are filled in).
"""

from __future__ import annotations

import io
import sys
from functools import lru_cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from babel.support import Translations

PORTAL = Path(__file__).parent
LOCALE_DIR = PORTAL / "locale"
LANGUAGES = ("de", "en")
DEFAULT_LANGUAGE = "de"
# each language's name in itself, for the language switch
LANGUAGE_NAMES = {"de": "Deutsch", "en": "English"}
METHOD_MAP = [("templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"


def read_catalog(lang: str) -> Catalog:
    with po_path(lang).open("rb") as fh:
        return read_po(fh, locale=lang)


@lru_cache(maxsize=len(LANGUAGES))
def translations(lang: str) -> Translations:
    """The compiled catalog of `lang` (compiled in memory from the committed .po file)."""
    buf = io.BytesIO()
    write_mo(buf, read_catalog(lang))
    buf.seek(0)
    return Translations(buf)


def N_(message: str) -> str:  # noqa: N802 - the conventional name of the extraction marker
    """Mark a text for extraction; it is translated where it is shown."""
    return message


def extract() -> Catalog:
    """Every translatable text of the portal's templates and Python modules."""
    catalog = Catalog(locale=DEFAULT_LANGUAGE, project="urbandata", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(PORTAL), METHOD_MAP, OPTIONS, KEYWORDS, comment_tags=("TRANSLATORS:",), strip_comment_tags=True
    ):
        if filename.startswith("locale"):
            continue
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def update() -> None:
    """Merge the extracted texts into the German and English catalogs (German msgstr = msgid)."""
    for lang in LANGUAGES:
        template = extract()  # fresh per language: Catalog.update shares message objects with it
        path = po_path(lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        catalog = read_catalog(lang) if path.exists() else Catalog(locale=lang, project="urbandata")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        catalog.fuzzy = False
        if lang == DEFAULT_LANGUAGE:
            for msg in catalog:
                if msg.id:
                    msg.string = msg.id
                    msg.flags.discard("fuzzy")
        with path.open("wb") as fh:
            write_po(fh, catalog, width=120, sort_output=True, omit_header=False)


if __name__ == "__main__":  # pragma: no cover - maintainer tool
    if sys.argv[1:] != ["update"]:
        sys.exit("usage: python -m urbandata.portal.i18n update")
    update()
