"""The dataset form, built from the declarative metadata profile: one input per profile field,
vocabularies as pickers (select, checkboxes), inline errors from the profile's validation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from urbandata.catalog.profile import load_profile
from urbandata.portal.forms import Posted

# fields shown in the form, in this order (every field of the profile)
_WIDGETS = {"markdown": "textarea", "email": "email", "url": "url", "date": "date", "text": "text", "bbox": "text"}


@dataclass
class FieldView:
    name: str
    label: str
    widget: str  # text, textarea, email, url, date, select, checkboxes, list
    required: bool
    help: str | None = None
    value: str = ""
    values: list[str] = field(default_factory=list)
    options: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None


def _widget(spec: dict[str, Any]) -> str:
    if spec["type"] == "vocabulary":
        return "select"
    if spec["type"] == "list":
        return "checkboxes" if spec.get("item") == "vocabulary" else "list"
    return _WIDGETS.get(spec["type"], "text")


def form_fields(lang: str, values: dict[str, Any], errors: dict[str, str] | None = None) -> list[FieldView]:
    """The profile's fields with the given values (metadata or submitted form values) and errors."""
    profile = load_profile()
    out: list[FieldView] = []
    for name, spec in profile.fields.items():
        widget = _widget(spec)
        raw = values.get(name, spec.get("default") if not values else None)
        view = FieldView(
            name=name,
            label=str(spec.get("label", {}).get(lang) or name),
            widget=widget,
            required=bool(spec.get("required")),
            help=(spec.get("help") or {}).get(lang),
            error=(errors or {}).get(name),
        )
        if "vocabulary" in spec:
            vocab = profile.vocabulary(spec["vocabulary"])
            view.options = [(code, profile.label(spec["vocabulary"], code, lang)) for code in vocab]
        if widget == "checkboxes":
            view.values = [str(v) for v in raw] if isinstance(raw, list) else []
        elif isinstance(raw, list):
            view.value = ", ".join(str(v) for v in raw)
        else:
            view.value = "" if raw is None else str(raw)
        out.append(view)
    return out


def submitted(form: Posted) -> tuple[dict[str, Any], dict[str, Any]]:
    """(metadata for the service, the raw values to show again): empty inputs become None (= not set)."""
    profile = load_profile()
    meta: dict[str, Any] = {}
    shown: dict[str, Any] = {}
    for name, spec in profile.fields.items():
        if _widget(spec) == "checkboxes":
            chosen = form.texts(name)
            meta[name], shown[name] = chosen, chosen
            continue
        text = form.text(name)
        shown[name] = text
        if not text:
            meta[name] = None
        elif spec["type"] == "list":
            meta[name] = [x.strip() for x in text.split(",") if x.strip()]
        else:
            meta[name] = text
    return meta, shown
