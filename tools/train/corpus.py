"""Build the training corpus from text that Debian packages and the npm registry installed locally.

Three kinds of text: code (TypeScript declarations, Python), English prose (Python docs, npm READMEs)
and Simplified Chinese prose ("zh": Debian's Chinese manuals, man pages and fortunes).

Output (under tools/train/work/corpus/):
  docs.jsonl     one JSON object per file (or per chunk of a large Chinese file): {split, kind, source, path, text}
  manifest.json  sources with package versions, licences, file counts and byte sizes per split

Reproducible: file lists are sorted, and the train/validation split is decided per file by a hash
of its path (no RNG), so the same installed packages always give the same corpus.
"""
import argparse
import glob
import gzip
import hashlib
import html
import json
import os
import re
import subprocess

from common import REPO_ROOT, log, work_path, write_json

NODE_MODULES = os.path.join(REPO_ROOT, "node_modules")
PY_STDLIB = "/usr/lib/python3.11"
PY_DOC_SOURCES = "/usr/share/doc/python3.11/html/_sources"

VALIDATION_PERCENT = 5
# A few very large files would swing the validation split's make-up on their own; keep them in train.
MAX_VALIDATION_FILE_BYTES = 300_000
PERMISSIVE_NPM_LICENCES = {"MIT", "ISC", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "0BSD", "BlueOak-1.0.0"}


def dpkg_version(package):
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "not installed"


def npm_package(path):
    with open(os.path.join(path, "package.json"), encoding="utf-8") as f:
        return json.load(f)


def read_text(path):
    """UTF-8 text with Unix newlines, or None for files that are not valid UTF-8 (.gz files are unpacked)."""
    try:
        with (gzip.open if path.endswith((".gz", ".dz")) else open)(path, "rb") as f:
            raw = f.read()
        return raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except (OSError, UnicodeDecodeError):
        return None


def split_of(source, rel_path, size):
    if size > MAX_VALIDATION_FILE_BYTES:
        return "train"
    digest = hashlib.sha1(f"{source}:{rel_path}".encode()).digest()
    return "val" if int.from_bytes(digest[:4], "little") % 100 < VALIDATION_PERCENT else "train"


def typescript_lib_files():
    root = os.path.join(NODE_MODULES, "typescript", "lib")
    return root, sorted(glob.glob(os.path.join(root, "*.d.ts")))


def python_stdlib_files():
    skip_dirs = {"test", "tests", "idle_test", "site-packages", "dist-packages", "encodings", "__pycache__"}
    # pydoc_data/topics.py is one huge string that duplicates the documentation.
    skip_files = {"pydoc_data/topics.py"}
    files = []
    for dirpath, dirnames, filenames in os.walk(PY_STDLIB):
        dirnames[:] = sorted(d for d in dirnames if d not in skip_dirs)
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            if name.endswith(".py") and os.path.relpath(path, PY_STDLIB) not in skip_files:
                files.append(path)
    return PY_STDLIB, sorted(files)


def python_doc_files():
    files = sorted(glob.glob(os.path.join(PY_DOC_SOURCES, "**", "*.rst.txt"), recursive=True))
    # The changelog is mostly issue numbers and contributor names, not prose.
    files = [f for f in files if not f.endswith("whatsnew/changelog.rst.txt")]
    return PY_DOC_SOURCES, files


def npm_readme_files():
    """README.md of every installed npm package whose licence is permissive; returns (root, files, packages)."""
    package_dirs = []
    for entry in sorted(os.listdir(NODE_MODULES)):
        if entry.startswith("."):
            continue
        path = os.path.join(NODE_MODULES, entry)
        if entry.startswith("@"):
            package_dirs += [os.path.join(path, sub) for sub in sorted(os.listdir(path))]
        else:
            package_dirs.append(path)
    files, packages = [], []
    for package_dir in package_dirs:
        readme = os.path.join(package_dir, "README.md")
        if not (os.path.isfile(readme) and os.path.isfile(os.path.join(package_dir, "package.json"))):
            continue
        meta = npm_package(package_dir)
        licence = meta.get("license")
        if isinstance(licence, str) and licence in PERMISSIVE_NPM_LICENCES:
            files.append(readme)
            packages.append(f"{meta.get('name')}@{meta.get('version')} ({licence})")
    return NODE_MODULES, files, packages



# ---- Simplified Chinese prose -------------------------------------------------------------------

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
ZH_CHUNK_CHARS = 6000  # large Chinese files are cut into chunks of about this many characters at paragraph ends
ZH_MIN_CJK_SHARE = 0.2  # a paragraph is kept when at least this share of its non-space characters is CJK


def cjk_paragraphs(text):
    """Paragraphs (blank-line separated, whitespace tidied) with enough Chinese in them."""
    kept = []
    for paragraph in re.split(r"\n\s*\n", text):
        lines = [re.sub(r"[ \t\u3000]+", " ", line).strip() for line in paragraph.split("\n")]
        paragraph = "\n".join(line for line in lines if line)
        visible = len(re.sub(r"\s", "", paragraph))
        if visible and len(CJK.findall(paragraph)) >= ZH_MIN_CJK_SHARE * visible:
            kept.append(paragraph)
    return kept


def chunks(paragraphs, size=ZH_CHUNK_CHARS):
    out, current, length = [], [], 0
    for paragraph in paragraphs:
        current.append(paragraph)
        length += len(paragraph)
        if length >= size:
            out.append("\n\n".join(current))
            current, length = [], 0
    if current:
        out.append("\n\n".join(current))
    return out


def html_to_text(markup):
    markup = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", "", markup)
    markup = re.sub(r"(?i)<(br|/p|/div|/h[1-6]|/li|/tr|/dt|/dd|/pre|/title|/table)\b[^>]*>", "\n\n", markup)
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


ROFF_ESCAPES = re.compile(r"\\f(\[[^\]]*\]|\(..|.)|\\s[+-]?\d|\\[/,&:%|^]|\\\((..)|\\\*(\(..|.)")
ROFF_CHARS = {"em": "—", "en": "–", "hy": "-", "lq": "“", "rq": "”", "oq": "‘", "cq": "’", "bu": "•", "co": "©", "aq": "'", "dq": '"'}


def roff_to_text(source):
    """Plain text of a man page: macro lines become paragraph breaks or their arguments, font escapes go."""
    lines = []
    for line in source.split("\n"):
        if line.startswith(('.\\"', "'\\\"", '.\\\\"')):
            continue
        if line.startswith((".", "'")):
            macro, _, rest = line[1:].partition(" ")
            if macro in ("SH", "SS"):
                lines += ["", rest.strip('"'), ""]
            elif macro in ("PP", "P", "LP", "TP", "IP", "sp", "br", "HP"):
                lines.append("")
                if macro == "IP" and rest:
                    lines.append(rest.split('"')[1] if rest.startswith('"') and rest.count('"') >= 2 else rest.split(" ")[0])
            elif macro in ("B", "I", "BI", "IB", "BR", "RB", "IR", "RI", "SM", "SB"):
                lines.append(rest.replace('"', ""))
            continue
        lines.append(line)
    text = "\n".join(lines)
    text = ROFF_ESCAPES.sub(lambda m: ROFF_CHARS.get(m.group(2) or "", ""), text)
    return text.replace("\\-", "-").replace("\\e", "\\").replace("\\ ", " ").replace("\\(", "(")


def zh_documents(kind):
    """(root, [(relative path, text)]) of one Chinese source; large files are chunked."""
    docs = []
    if kind == "debian-reference":
        root = "/usr/share/debian-reference"
        for path in sorted(glob.glob(os.path.join(root, "*.zh-cn.html"))):
            text = read_text(path)
            if text:
                for i, chunk in enumerate(chunks(cjk_paragraphs(html_to_text(text)))):
                    docs.append((f"{os.path.basename(path)}#{i}", chunk))
    elif kind == "manpages":
        root = "/usr/share/man/zh_CN"
        owned = set(subprocess.run(["dpkg-query", "-L", "manpages-zh"], capture_output=True, text=True).stdout.split("\n"))
        for path in sorted(p for p in owned if p.startswith(root + "/") and p.endswith(".gz")):
            text = read_text(path)
            if text:
                body = "\n\n".join(cjk_paragraphs(roff_to_text(text)))
                if body:
                    docs.append((os.path.relpath(path, root), body))
    elif kind == "fortunes":
        root = "/usr/share/games/fortunes"
        for name in ("chinese.u8", "tang300.u8", "song100.u8"):
            text = read_text(os.path.join(root, name))
            if text:
                text = re.sub(r"\x1b\[[0-9;]*m", "", text)
                entries = [e.strip("\n") for e in re.split(r"\n%\n", text) if CJK.search(e)]
                for i, chunk in enumerate(chunks(entries)):
                    docs.append((f"{name}#{i}", chunk))
    elif kind == "debian-edu":
        root = "/usr/share/doc/debian-edu-doc-zh-cn"
        path = os.path.join(root, "debian-edu-bookworm-manual.html")  # the bullseye manual is mostly the same text
        text = read_text(path)
        if text:
            for i, chunk in enumerate(chunks(cjk_paragraphs(html_to_text(text)))):
                docs.append((f"{os.path.basename(path)}#{i}", chunk))
    elif kind == "gimp-help":
        root = "/usr/share/gimp/2.0/help/zh_CN"
        for path in sorted(glob.glob(os.path.join(root, "**", "*.html"), recursive=True)):
            text = read_text(path)
            body = "\n\n".join(cjk_paragraphs(html_to_text(text))) if text else ""
            if len(body) >= 200:
                docs.append((os.path.relpath(path, root), body))
    else:
        raise ValueError(kind)
    return root, docs


ZH_SOURCES = [
    ("zh-debian-reference", "debian-reference", "debian-reference-zh-cn",
     "Debian Reference (Osamu Aoki), Simplified Chinese translation, HTML chapters as text", "GPL-2+"),
    ("zh-manpages", "manpages", "manpages-zh",
     "Chinese man pages (zh_CN section of manpages-zh), roff markup removed", "GFDL-1.2+ (a few pages GPL-2.0, as in the package's copyright file)"),
    ("zh-debian-edu", "debian-edu", "debian-edu-doc-zh-cn",
     "Debian Edu bookworm manual, Simplified Chinese translation, HTML as text", "GPL-2+"),
    ("zh-gimp-help", "gimp-help", "gimp-help-zh-cn",
     "GIMP user manual, Simplified Chinese translation (HTML as text; only paragraphs that are mostly Chinese)", "GFDL-NIV-1.2+"),
    ("zh-fortunes", "fortunes", "fortunes-zh",
     "Chinese fortunes: sayings and quotations, Tang and Song poems (colour escapes removed)", "GPL-3.0+"),
]



# ---- General English prose (the technical sources above lack everyday words) ---------------------

GCIDE_KEEP_EVERY = 4  # the dictionary is 40 MB; one chunk in this many is kept


def english_documents(kind):
    docs = []
    if kind == "fortunes":
        root = "/usr/share/games/fortunes"
        owned = subprocess.run(["dpkg-query", "-L", "fortunes"], capture_output=True, text=True).stdout.split("\n")
        for path in sorted(p for p in owned if p.startswith(root + "/") and os.path.isfile(p) and not p.endswith((".dat", ".u8"))):
            text = read_text(path)
            if text:
                entries = [e.strip("\n") for e in re.split(r"\n%\n", text) if e.strip()]
                for i, chunk in enumerate(chunks(entries)):
                    docs.append((f"{os.path.basename(path)}#{i}", chunk))
    elif kind in ("gcide", "devil"):
        root = "/usr/share/dictd"
        # gcide.dict.dz has a few stray Windows-1252 bytes (e.g. 0x92 for an apostrophe) among its UTF-8.
        path = os.path.join(root, f"{kind}.dict.dz")
        text = None
        if os.path.exists(path):  # packages that are not installed just contribute nothing
            with gzip.open(path, "rb") as f:
                text = f.read().decode("utf-8", errors="replace").replace("\ufffd", "'")
        if text:
            text = re.sub(r"\[(1913 Webster|PJC|WordNet 1.5|Century Dict\.)[^\]]*\]", "", text)
            text = re.sub(r"\\([^\\\n]*)\\", lambda m: m.group(1).replace('"', "").replace("*", "").replace("`", ""), text)
            text = text.replace("{", "").replace("}", "")
            entries = [e.strip("\n") for e in re.split(r"\n\s*\n(?=\S)", text) if e.strip()]
            for i, chunk in enumerate(chunks(entries)):
                if kind == "devil" or i % GCIDE_KEEP_EVERY == 0:
                    docs.append((f"{kind}.dict#{i}", re.sub(r"\n +", "\n", chunk)))
    elif kind == "wordnet":
        # data.{noun,verb,adj,adv}: one synset per line, its gloss (definition; "example sentences") after " | ".
        # The licence header lines start with two spaces.
        root = "/usr/share/wordnet"
        for part in ("noun", "verb", "adj", "adv"):
            text = read_text(os.path.join(root, f"data.{part}"))
            if text:
                glosses = [line.split(" | ", 1)[1].strip() for line in text.split("\n")
                           if line and not line.startswith("  ") and " | " in line]
                for i, chunk in enumerate(chunks(glosses)):
                    docs.append((f"data.{part}#{i}", chunk))
    return root, docs


EN_SOURCES = [
    ("en-fortunes", "fortunes", "fortunes",
     "English fortune cookies: quotations, literature, jokes, poems (fortune-mod data files)",
     "BSD-4-Clause-UC (fortune-mod; the data files are collected quotations, see the package's copyright file)"),
    ("en-devil", "devil", "dict-devil", "The Devil's Dictionary by Ambrose Bierce (1911)", "public domain"),
    ("en-gcide", "gcide", "dict-gcide",
     f"GNU Collaborative International Dictionary of English (Webster 1913 based): one chunk of entries in {GCIDE_KEEP_EVERY}, "
     "markup removed", "GPL-2+"),
    ("en-wordnet", "wordnet", "wordnet-base",
     "WordNet 3.0 glosses: a definition and example sentences for each sense of everyday English words",
     "WordNet-3.0 (Princeton University; permissive, notice kept: WordNet 3.0 Copyright 2006 by Princeton University)"),
]


def collect(tiny):
    ts_root, ts_files = typescript_lib_files()
    py_root, py_files = python_stdlib_files()
    doc_root, doc_files = python_doc_files()
    md_root, md_files, md_packages = npm_readme_files()
    typescript_version = npm_package(os.path.join(NODE_MODULES, "typescript"))["version"]
    sources = [
        {
            "name": "typescript-lib",
            "kind": "code",
            "description": "TypeScript standard library declarations (lib/*.d.ts): code with English doc comments",
            "package": f"npm typescript@{typescript_version}",
            "licence": "Apache-2.0",
            "root": ts_root,
            "files": ts_files,
        },
        {
            "name": "python-stdlib",
            "kind": "code",
            "description": "Python 3.11 standard library sources (*.py, without tests, encodings, site-packages)",
            "package": f"Debian libpython3.11-stdlib {dpkg_version('libpython3.11-stdlib:amd64')}",
            "licence": "PSF-2.0",
            "root": py_root,
            "files": py_files,
        },
        {
            "name": "python-docs",
            "kind": "prose",
            "description": "Python 3.11 documentation, reStructuredText sources (html/_sources/**/*.rst.txt, without the changelog)",
            "package": f"Debian python3-doc {dpkg_version('python3-doc')}",
            "licence": "PSF-2.0",
            "root": doc_root,
            "files": doc_files,
        },
        {
            "name": "npm-readmes",
            "kind": "prose",
            "description": "README.md of the installed npm packages with a permissive licence (English prose with code samples)",
            "package": f"{len(md_packages)} npm packages: " + ", ".join(md_packages),
            "licence": "per package: " + ", ".join(sorted({p.rsplit('(', 1)[1][:-1] for p in md_packages})),
            "root": md_root,
            "files": md_files,
        },
    ]
    for name, kind, package, description, licence in EN_SOURCES:
        root, docs = english_documents(kind)
        sources.append({"name": name, "kind": "prose", "description": description,
                        "package": f"Debian {package} {dpkg_version(package)}", "licence": licence,
                        "root": root, "docs": docs})
    for name, kind, package, description, licence in ZH_SOURCES:
        root, docs = zh_documents(kind)
        sources.append({"name": name, "kind": "zh", "description": description,
                        "package": f"Debian {package} {dpkg_version(package)}", "licence": licence,
                        "root": root, "docs": docs})
    if tiny:
        # Smoke mode: a handful of files per source, enough to exercise every later stage quickly.
        for source in sources:
            key = "docs" if "docs" in source else "files"
            source[key] = source[key][:: max(1, len(source[key]) // 25)][:25]
    return sources


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tiny", action="store_true", help="small corpus for the smoke test")
    args = parser.parse_args()

    sources = collect(args.tiny)
    docs_path = work_path("corpus", "docs.jsonl")
    manifest = {"validation_percent": VALIDATION_PERCENT, "max_validation_file_bytes": MAX_VALIDATION_FILE_BYTES,
                "tiny": args.tiny, "sources": []}
    with open(docs_path, "w", encoding="utf-8") as out:
        for source in sources:
            counts = {"train": [0, 0], "val": [0, 0]}  # [files, bytes]
            skipped = 0
            items = source["docs"] if "docs" in source else [
                (os.path.relpath(path, source["root"]), read_text(path)) for path in source["files"]]
            for rel, text in items:
                if text is None or not text.strip():
                    skipped += 1
                    continue
                size = len(text.encode("utf-8"))
                split = split_of(source["name"], rel, size)
                counts[split][0] += 1
                counts[split][1] += size
                out.write(json.dumps({"split": split, "kind": source["kind"], "source": source["name"],
                                      "path": rel, "text": text}, ensure_ascii=False) + "\n")
            entry = {k: v for k, v in source.items() if k not in ("files", "docs")}
            entry.update({"train_files": counts["train"][0], "train_bytes": counts["train"][1],
                          "val_files": counts["val"][0], "val_bytes": counts["val"][1], "skipped_files": skipped})
            manifest["sources"].append(entry)
            log(f"corpus: {source['name']}: train {counts['train'][0]} files {counts['train'][1] / 1e6:.2f} MB, "
                f"val {counts['val'][0]} files {counts['val'][1] / 1e6:.2f} MB, skipped {skipped}")
    write_json(work_path("corpus", "manifest.json"), manifest)


if __name__ == "__main__":
    main()
