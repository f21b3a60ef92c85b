"""Every document the repository points at is in the repository.

Comments and docstrings that cite a `*.md` file, links between the Markdown pages, and the module paths
those pages name must all resolve inside this checkout: a reader of the code has nothing else.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "shared" / "codegateway"
SKIPPED_DIRS = {".git", ".venv", ".venv-sam", ".venv-litellm", "node_modules", ".aws-sam", "__pycache__"}
SKIPPED_DIRS |= {".pytest_cache", ".ruff_cache", ".mypy_cache", ".hypothesis", ".import_linter_cache"}
# Files whose `#` lines are comments (YAML, TOML, Makefile, shell, pip requirements).
HASH_COMMENTED = {".yaml", ".yml", ".toml", ".sh", ".txt", ".cfg"}
MD_NAME = re.compile(r"(?<![\w/.-])((?:\.{1,2}/)?[\w][\w./-]*\.md)\b")
MD_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
MODULE_PATH = re.compile(r"`((?:[\w-]+/)+[\w-]+\.(?:py|sh))`")
DOTTED_NAME = re.compile(r"`(codegateway(?:\.\w+)+)`")


def _repo_files() -> Iterator[Path]:
    for path in sorted(ROOT.rglob("*")):
        relative = path.relative_to(ROOT)
        if path.is_file() and not SKIPPED_DIRS.intersection(relative.parts):
            yield path


REPO_FILES = list(_repo_files())
MARKDOWN_PAGES = [path for path in REPO_FILES if path.suffix == ".md"]
MARKDOWN_NAMES = {path.name for path in MARKDOWN_PAGES}


def _python_commentary(source: str) -> Iterator[tuple[int, str]]:
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            yield token.start[0], token.string
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            docstring = ast.get_docstring(node, clean=False)
            if docstring and node.body:
                yield node.body[0].lineno, docstring


def _commentary(path: Path) -> Iterator[tuple[int, str]]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".py":
        yield from _python_commentary(text)
    elif path.suffix in HASH_COMMENTED or path.name == "Makefile":
        for number, line in enumerate(text.splitlines(), 1):
            if "#" in line:
                yield number, line[line.index("#") :]


def _resolves(name: str, base: Path) -> bool:
    if "/" not in name:
        return name in MARKDOWN_NAMES  # a bare file name: a page of that name anywhere in the repository
    for start in (base, ROOT):
        target = (start / name).resolve()
        if target.is_relative_to(ROOT) and target.exists():
            return True
    return False


def _cited_documents() -> list[tuple[str, str]]:
    cited = []
    for path in REPO_FILES:
        if path.suffix != ".py" and path.suffix not in HASH_COMMENTED and path.name != "Makefile":
            continue
        for line, text in _commentary(path):
            for name in MD_NAME.findall(text):
                cited.append((f"{path.relative_to(ROOT)}:{line}", name))
    return cited


def test_comments_and_docstrings_cite_only_documents_the_repository_holds() -> None:
    cited = _cited_documents()
    assert any(name == "docs/reference/pricing.md" for _, name in cited), "the scan found none of the known citations"
    missing = [f"{where}: {name}" for where, name in cited if not _resolves(name, ROOT)]
    assert missing == [], "comments name documents that are not in the repository:\n" + "\n".join(missing)


@pytest.mark.parametrize("page", MARKDOWN_PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_links_between_pages_resolve(page: Path) -> None:
    links = [link for link in MD_LINK.findall(page.read_text(encoding="utf-8")) if "://" not in link]
    missing = [link for link in links if not (page.parent / link).resolve().exists()]
    assert missing == [], f"{page.relative_to(ROOT)} links to missing files: {missing}"


@pytest.mark.parametrize("page", MARKDOWN_PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_module_paths_the_pages_name_exist(page: Path) -> None:
    named = set(MODULE_PATH.findall(page.read_text(encoding="utf-8")))
    missing = sorted(path for path in named if not ((ROOT / path).exists() or (PACKAGE / path).exists()))
    assert missing == [], f"{page.relative_to(ROOT)} names files that do not exist: {missing}"


def _names_something(dotted: str) -> bool:
    """`codegateway.a.b.name`: the longest prefix that is a module or package, and the rest defined in it."""
    parts = dotted.split(".")[1:]
    for split in range(len(parts), -1, -1):
        base = PACKAGE.joinpath(*parts[:split])
        module = base / "__init__.py" if base.is_dir() else base.with_suffix(".py")
        if module.exists():
            rest = parts[split:]
            return (
                not rest or re.search(rf"\b(def|class) {rest[0]}\b|^{rest[0]} =", module.read_text(), re.M) is not None
            )
    return False


@pytest.mark.parametrize("page", MARKDOWN_PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_dotted_module_names_the_pages_use_exist(page: Path) -> None:
    named = set(DOTTED_NAME.findall(page.read_text(encoding="utf-8")))
    missing = sorted(name for name in named if not _names_something(name))
    assert missing == [], f"{page.relative_to(ROOT)} names modules that do not exist: {missing}"
