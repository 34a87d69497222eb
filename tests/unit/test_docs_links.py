"""The README and docs/*.md link only inside the repository, and every link resolves.

Nothing may link outside the repository (developers' guide): no http(s) link, no bare URL that
GitHub would turn into one, no path that climbs out of the repository; every relative link
names a file or folder that exists (and is not git-ignored build output), and every #fragment
names a heading of the page it points to. Code blocks and code spans are not links.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
DOCUMENTS = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
# [text](destination "title") and ![alt](destination); the text may hold one level of brackets.
_INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^()\s<>]*)>?(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
_REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
_AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*)>")
_HTML_LINK = re.compile(r"""\b(?:href|src)\s*=\s*["']([^"']*)["']""", re.IGNORECASE)
# What GitHub links by itself in running text: a URL with a scheme, or a www. address.
_BARE_URL = re.compile(r"\b(?:https?|ftp)://\S+|\bwww\.[A-Za-z0-9-]+\.\S+", re.IGNORECASE)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")


def _prose(text: str) -> str:
    """The text with fenced code blocks blanked (lines kept) and code spans replaced."""
    lines, fence = [], ""
    for line in text.splitlines():
        opening = _FENCE.match(line)
        if fence:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = ""
            lines.append("")
        elif opening:
            fence = opening.group(1)
            lines.append("")
        else:
            lines.append(line)
    return _CODE_SPAN.sub("code", "\n".join(lines))


def _links(text: str) -> list[str]:
    prose = _prose(text)
    found = [m.group(1) for m in _INLINE_LINK.finditer(prose)]
    found += [m.group(1) for m in _REFERENCE_DEFINITION.finditer(prose)]
    found += [m.group(1) for m in _AUTOLINK.finditer(prose)]
    found += [m.group(1) for m in _HTML_LINK.finditer(prose)]
    return found


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text, lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "").lower()
    kept = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN")
    return kept.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for line in _prose(page.read_text(encoding="utf-8")).splitlines():
        heading = _HEADING.match(line)
        if heading is None:
            continue
        slug = _slug(heading.group(2))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def _ignored(relative: Path) -> bool:
    """Under a folder .gitignore names (build output, caches): absent from a fresh clone."""
    entries = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    for entry in (e.strip().rstrip("/") for e in entries if e.strip().endswith("/")):
        if "/" in entry and relative.as_posix().startswith(f"{entry}/"):
            return True
        if "/" not in entry and entry in relative.parts:
            return True
    return False


def _problem(document: Path, link: str) -> str | None:
    """What is wrong with one link of a document, or None."""
    return _form_problem(link) or _target_problem(document, link)


def _form_problem(link: str) -> str | None:
    if not link:
        return "an empty link"
    if _SCHEME.match(link) or link.startswith("//"):
        return "leaves the repository (a URL)"
    if link.startswith("/"):
        return "an absolute path: link relative to the page"
    return None


def _target_problem(document: Path, link: str) -> str | None:
    path_part, _, fragment = link.partition("#")
    target = (document.parent / unquote(path_part)).resolve() if path_part else document
    try:
        relative = target.relative_to(ROOT)
    except ValueError:
        return "leaves the repository"
    if not target.exists():
        return "names nothing in the repository"
    if _ignored(relative):
        return "names git-ignored output, absent from a fresh clone"
    if fragment and target.suffix == ".md" and fragment not in _anchors(target):
        return f"#{fragment} is no heading of {relative.as_posix()}"
    return None


def _name(document: Path) -> str:
    return document.relative_to(ROOT).as_posix()


@pytest.mark.parametrize("document", DOCUMENTS, ids=_name)
def test_every_link_resolves_inside_the_repository(document: Path) -> None:
    links = _links(document.read_text(encoding="utf-8"))
    problems = [f"{link}: {problem}" for link in links if (problem := _problem(document, link))]
    assert not problems, f"{_name(document)}:\n" + "\n".join(problems)


@pytest.mark.parametrize("document", DOCUMENTS, ids=_name)
def test_no_bare_url_outside_code(document: Path) -> None:
    urls = _BARE_URL.findall(_prose(document.read_text(encoding="utf-8")))
    assert not urls, f"{_name(document)} would link out (put it in code, or name it in words): {urls}"


def test_the_index_lists_every_page_of_the_docs() -> None:
    index = DOCS / "README.md"
    listed = {(DOCS / link.partition("#")[0]).resolve() for link in _links(index.read_text(encoding="utf-8"))}
    pages = {page.resolve() for page in DOCS.iterdir() if page.is_file() and page != index}
    assert not pages - listed, f"not in docs/README.md: {sorted(p.name for p in pages - listed)}"


def test_the_readme_points_to_the_index() -> None:
    assert "docs/README.md" in _links((ROOT / "README.md").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("link", "problem"),
    [
        ("https://example.com/", "a URL"),
        ("mailto:someone@example.com", "a URL"),
        ("//example.com/x", "a URL"),
        ("../../shared/API.md", "leaves the repository"),
        ("/docs/deploy.md", "an absolute path"),
        ("no-such-page.md", "names nothing"),
        ("deploy.md#no-such-heading", "is no heading"),
        ("../cdk.out", "git-ignored"),
    ],
)
def test_the_check_catches_what_it_should(link: str, problem: str) -> None:
    found = _problem(DOCS / "README.md", link)
    assert found is not None and problem in found, found


def test_the_check_accepts_what_it_should() -> None:
    for link in ("deploy.md", "../README.md", "../tools/ops.py", "../tools/simulation/", "security.md#infrastructure"):
        assert _problem(DOCS / "README.md", link) is None, link
    assert _links("see [a `b`](x.md) and `[not](a-link.md)`\n```\n[nor](this.md)\n```\n") == ["x.md"]
    assert _slug("A whole program cycle: `make demo`") == "a-whole-program-cycle-make-demo"
