#!/usr/bin/env python3
"""Every relative link in README.md and docs/*.md points at a file of the repository, and every
#anchor at a heading of the file it names, with GitHub's heading slugs.

    check_links.py REPO_ROOT

Links inside fenced code blocks and inline code are not links. External links (http, https, mailto)
are not fetched. Exits 1 and names each broken link (file:line) when any is broken.
"""
import os
import re
import sys

# The target only: a link's text may begin on an earlier line.
LINK = re.compile(r"\]\(([^()\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
INLINE_CODE = re.compile(r"`[^`]*`")


def prose_lines(path):
    """(line number, text) of the lines outside fenced code blocks."""
    fence = None
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            stripped = line.lstrip()
            if fence is None and (stripped.startswith("```") or stripped.startswith("~~~")):
                fence = stripped[:3]
                continue
            if fence is not None:
                if stripped.startswith(fence):
                    fence = None
                continue
            yield number, line.rstrip("\n")


def slug(heading):
    """GitHub's anchor for a heading: markup and punctuation dropped, lower case, spaces to '-'."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text stays, its target goes
    text = text.replace("`", "").replace("*", "")
    text = re.sub(r"<[^>]+>", "", text)
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def anchors(path, cache={}):
    if path not in cache:
        seen = {}
        found = set()
        for _, line in prose_lines(path):
            m = HEADING.match(line)
            if not m:
                continue
            base = slug(m.group(2))
            n = seen.get(base, 0)
            seen[base] = n + 1
            found.add(base if n == 0 else f"{base}-{n}")
        cache[path] = found
    return cache[path]


def check(root):
    documents = [os.path.join(root, "README.md")]
    docs = os.path.join(root, "docs")
    documents += sorted(os.path.join(docs, name) for name in os.listdir(docs) if name.endswith(".md"))
    broken = []
    links = 0
    for document in documents:
        for number, line in prose_lines(document):
            for m in LINK.finditer(INLINE_CODE.sub("", line)):
                target = m.group(1)
                if re.match(r"^[a-z]+:", target):
                    continue
                links += 1
                path, _, anchor = target.partition("#")
                resolved = os.path.normpath(os.path.join(os.path.dirname(document), path)) if path else document
                where = f"{os.path.relpath(document, root)}:{number}"
                if not os.path.exists(resolved):
                    broken.append(f"{where}: {target}: no such file {os.path.relpath(resolved, root)}")
                elif anchor and resolved.endswith(".md") and anchor not in anchors(resolved):
                    broken.append(f"{where}: {target}: no heading '#{anchor}' in {os.path.relpath(resolved, root)}")
    return documents, links, broken


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    documents, links, broken = check(sys.argv[1])
    for line in broken:
        print(line)
    print(f"{len(documents)} documents, {links} relative links, {len(broken)} broken")
    sys.exit(1 if broken else 0)


if __name__ == "__main__":
    main()
