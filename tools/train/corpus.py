"""Build the training corpus from text that Debian packages and the npm registry installed locally.

Output (under tools/train/work/corpus/):
  docs.jsonl     one JSON object per file: {split, kind, source, path, text}
  manifest.json  sources with package versions, licences, file counts and byte sizes per split

Reproducible: file lists are sorted, and the train/validation split is decided per file by a hash
of its path (no RNG), so the same installed packages always give the same corpus.
"""
import argparse
import glob
import hashlib
import json
import os
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
    """UTF-8 text with Unix newlines, or None for files that are not valid UTF-8."""
    try:
        with open(path, "rb") as f:
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
    if tiny:
        # Smoke mode: a handful of files per source, enough to exercise every later stage quickly.
        for source in sources:
            source["files"] = source["files"][:: max(1, len(source["files"]) // 25)][:25]
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
            for path in source["files"]:
                text = read_text(path)
                if text is None or not text.strip():
                    skipped += 1
                    continue
                rel = os.path.relpath(path, source["root"])
                size = len(text.encode("utf-8"))
                split = split_of(source["name"], rel, size)
                counts[split][0] += 1
                counts[split][1] += size
                out.write(json.dumps({"split": split, "kind": source["kind"], "source": source["name"],
                                      "path": rel, "text": text}, ensure_ascii=False) + "\n")
            entry = {k: v for k, v in source.items() if k != "files"}
            entry.update({"train_files": counts["train"][0], "train_bytes": counts["train"][1],
                          "val_files": counts["val"][0], "val_bytes": counts["val"][1], "skipped_files": skipped})
            manifest["sources"].append(entry)
            log(f"corpus: {source['name']}: train {counts['train'][0]} files {counts['train'][1] / 1e6:.2f} MB, "
                f"val {counts['val'][0]} files {counts['val'][1] / 1e6:.2f} MB, skipped {skipped}")
    write_json(work_path("corpus", "manifest.json"), manifest)


if __name__ == "__main__":
    main()
