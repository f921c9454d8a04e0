#!/usr/bin/env python3
"""Every file path, docs/*.md page and section that README.md, docs/*.md or a
comment in the sources cites exists in this repository.

Usage: doc_references.py SOURCE_DIR

What is checked, in every tracked text file (README.md, docs/*.md and the
sources, tests, build and deploy files; lines joined, comment markers
dropped, so a citation may wrap):
- a path under one of the repository's top-level directories
  (`actors/curl_pod_client.cpp`, `tests/lab/scenarios/hung.json`, a glob such
  as `tests/integration/*.sh`) names a file or directory that exists;
- a page `name.md` exists in the repository;
- a section cited after a page, `docs/x.md, "Heading"` or
  `docs/x.md ("Heading")`, is a heading of that page: the heading itself
  (backticks and a leading "N. " dropped), or its start up to a colon;
- a numbered section, `protocol.md §N` or `performance.md section N`, is a
  heading of that page that starts with "N.";
- nothing points outside the repository (/work/...).
A citation that is not a path (a URL, `build/...`, a path inside a
container) is not matched: only the top-level directories below are.
"""
import glob
import os
import re
import sys

root = os.path.abspath(sys.argv[1])
TOP = ("actors", "messages", "http_bridge", "client", "tests", "deploy",
       "docs", ".ci")
EXTENSIONS = (".md", ".cpp", ".hpp", ".h", ".sh", ".py", ".txt", ".yaml",
              ".yml", ".go", ".awk", ".cmake", ".supp")
NAMES = ("Makefile", "Containerfile", "CMakeLists.txt", "run")
SKIP_DIRS = {".git", "build", "corpus", "regressions", "cases",
             "client_cases", "node_modules"}

failures = []


def fail(where, what):
    failures.append(f"{where}: {what}")


def files():
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        dirnames[:] = [d for d in dirnames
                       if d not in SKIP_DIRS and not d.startswith("build")]
        for name in filenames:
            if name.endswith(EXTENSIONS) or name in NAMES or \
                    name.startswith("Containerfile"):
                yield os.path.normpath(os.path.join(rel_dir, name))


all_files = sorted(files())
md_by_name = {}
for f in all_files:
    if f.endswith(".md"):
        md_by_name.setdefault(os.path.basename(f), []).append(f)


def headings(md_path):
    out = []
    in_fence = False
    with open(os.path.join(root, md_path), encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("```"):
                in_fence = not in_fence
            elif not in_fence and re.match(r"#{1,6} ", line):
                text = line.lstrip("#").strip().replace("`", "")
                out.append(text)
    return out


def section_ok(md_path, quoted):
    quoted = " ".join(quoted.replace("`", "").split())
    for h in headings(md_path):
        bare = re.sub(r"^\d+\.\s+", "", h)
        for text in (h, bare):
            if text == quoted or text.startswith(quoted + ":"):
                return True
    return False


def numbered_ok(md_path, number):
    return any(re.match(rf"{number}\.\s", h) for h in headings(md_path))


def resolve_md(name, where):
    """docs/x.md or x.md as cited -> the page's path, or None."""
    if "/" in name:
        for candidate in (name, os.path.normpath(
                os.path.join(os.path.dirname(where), name))):
            if os.path.isfile(os.path.join(root, candidate)):
                return candidate
        return None
    candidates = md_by_name.get(name, [])
    if len(candidates) == 1:
        return candidates[0]
    if "docs/" + name in candidates:
        return "docs/" + name
    # README.md next to the citing file, else the top-level one.
    near = os.path.join(os.path.dirname(where), name)
    if near in candidates:
        return near
    return name if name in candidates else None


def joined_text(path):
    """Markdown whole; elsewhere the comments only, markers dropped; lines
    joined with spaces so that a citation may wrap."""
    with open(os.path.join(root, path), encoding="utf-8", errors="replace") as fh:
        lines = fh.read().split("\n")
    if path.endswith(".md"):
        return " ".join(lines)
    c_like = path.endswith((".cpp", ".hpp", ".h", ".go"))
    out = []
    for line in lines:
        if c_like:
            m = re.search(r"(?:^|\s)(?://+|/\*+|\*)(.*)$", line)
            if m is None and line.lstrip().startswith(("//", "/*", "*")):
                m = re.match(r"\s*(?://+|/\*+|\*)(.*)$", line)
        else:
            m = re.search(r"(?:^|\s)#+(.*)$", line)
        out.append(m.group(1).strip() if m else "")
    return " ".join(out)


def exists(where, cited):
    """A cited path, from the top or from the citing file's directory; a
    stem (actors/coordinator) stands for its files, an upper-case or
    <placeholder> component for anything."""
    parts = [("*" if re.fullmatch(r"[A-Z_]+", c) else c)
             for c in re.sub(r"<[^>]*>", "*", cited).split("/")]
    pattern = "/".join(parts)
    for base in (root, os.path.join(root, os.path.dirname(where))):
        full = os.path.join(base, pattern)
        if glob.glob(full) or glob.glob(full + ".*"):
            return True
    return False


PATH_RE = re.compile(
    r"(?<![\w/.$<>~@:-])((?:%s)/[\w.*<>/+-]*[\w*>])" %
    "|".join(re.escape(t) for t in TOP))
MD_RE = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w-]+\.md)\b")
SECTION_RE = re.compile(
    r"((?:[\w.-]+/)*[\w-]+\.md)`?\)?,?\s*\(?\s*[\"“]([^\"”]{1,80})[\"”]")
NUMBERED_RE = re.compile(
    r"((?:[\w.-]+/)*[\w-]+\.md)`?,?\s*(?:§\s?|section\s+)(\d+)")

checked = 0
for path in all_files:
    text = joined_text(path)
    if "/work/" in text and path != "tests/docs/doc_references.py":
        fail(path, "cites a path outside the repository (/work/...)")
    for m in PATH_RE.finditer(text):
        cited = m.group(1).rstrip(".")
        checked += 1
        if not exists(path, cited):
            fail(path, f"cites {cited}: no such file or directory")
    for m in MD_RE.finditer(text):
        cited = m.group(1)
        first = cited.split("/")[0]
        if "/" in cited and first not in TOP and not os.path.isdir(
                os.path.join(root, os.path.dirname(path), first)):
            continue  # another project's page (a URL's path)
        checked += 1
        if resolve_md(cited, path) is None:
            fail(path, f"cites {cited}: no such page")
    for m in SECTION_RE.finditer(text):
        page = resolve_md(m.group(1), path)
        checked += 1
        if page and not section_ok(page, m.group(2)):
            fail(path, f'cites {m.group(1)}, "{m.group(2)}": no such heading '
                 f"in {page}")
    for m in NUMBERED_RE.finditer(text):
        page = resolve_md(m.group(1), path)
        checked += 1
        if page and not numbered_ok(page, m.group(2)):
            fail(path, f"cites {m.group(1)} section {m.group(2)}: {page} has "
                 f"no heading numbered {m.group(2)}")

for f in failures:
    print("FAIL:", f)
print(f"doc_references: {checked} citations in {len(all_files)} files, "
      f"{len(failures)} broken")
sys.exit(1 if failures else 0)
