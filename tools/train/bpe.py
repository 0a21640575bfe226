"""Byte-level BPE (GPT-2 style): training, encoding, and export as a Hugging Face tokenizer.json.

The pre-tokenizer is GPT-2's regex, applied to the raw text; every piece is turned into bytes, and
every byte into one printable character with GPT-2's bytes_to_unicode table, so 'Ġ' is a space.
Merges are learnt greedily by pair frequency over the pre-tokenized words of the training split.

  train:  bpe.py train --vocab-size 4096      -> work/tokenizer/tokenizer.json (+ tokenizer_config.json)
  encode: bpe.py encode                        -> work/tokens/*.u16 (token ids of every split, uint16)
"""
import argparse
import collections
import heapq
import json
import os

import numpy as np
import regex

from common import END_OF_TEXT, log, work_path, write_json

# GPT-2's pre-tokenization pattern with one change: every CJK ideograph is a pre-token of its own. In GPT-2's
# pattern a run of Chinese characters (a whole sentence without spaces) is one "word", so merges learnt across
# character boundaries spend the vocabulary on frequent character pairs and cut rarer characters into byte pieces;
# isolated, each character becomes one token as soon as its UTF-8 bytes are merged, and the rest of the vocabulary
# goes to English words and code. Written with \uXXXX ranges and a lookahead, which Python's `regex`, Oniguruma
# (Rust tokenizers) and JavaScript (tokenizers.js) all read the same way.
HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
PATTERN_SOURCE = (r"'s|'t|'re|'ve|'m|'ll|'d|[" + HAN + r"]| ?(?:(?![" + HAN + r"])\p{L})+| ?\p{N}+"
                  r"| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+")
GPT2_PATTERN = regex.compile(PATTERN_SOURCE)


def bytes_to_unicode():
    """GPT-2's reversible map from the 256 byte values to printable unicode characters."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    chars = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return dict(zip(printable, map(chr, chars)))


BYTE_TO_CHAR = bytes_to_unicode()


def pre_tokenize(text):
    return GPT2_PATTERN.findall(text)


def train_bpe(texts, vocab_size, whole_characters=()):
    """Learn merges until the vocabulary (256 bytes + merges + <|endoftext|>) has vocab_size entries.

    texts: (text, weight) pairs; a pre-token's count is the sum of the weights of its occurrences.
    whole_characters: characters whose UTF-8 bytes are merged first, in this order, so that each is one token
    in every prefix of the merges (a vocabulary size by measurement keeps a prefix).
    Returns (symbols, merges): symbols[i] is the byte string of token i, merges a list of (left, right) ids.
    Pair counts are kept incrementally with an index pair -> words that contain it, and a lazy max-heap;
    ties break on the smaller (left, right) ids, so training is deterministic.
    """
    word_counts = collections.Counter()
    for text, weight in texts:
        for piece in pre_tokenize(text):
            word_counts[piece] += weight
    log(f"bpe: {len(word_counts)} distinct pre-tokens")
    words = [list(w.encode("utf-8")) for w in word_counts]
    freqs = list(word_counts.values())
    symbols = [bytes([b]) for b in range(256)]

    pair_counts = collections.defaultdict(int)
    where = collections.defaultdict(set)
    for index, (word, freq) in enumerate(zip(words, freqs)):
        for pair in zip(word, word[1:]):
            pair_counts[pair] += freq
            where[pair].add(index)
    heap = [(-count, pair) for pair, count in pair_counts.items()]
    heapq.heapify(heap)

    merges = []
    target_merges = vocab_size - 256 - 1
    # The forced merges: for each character, its byte prefixes left to right (b1+b2, then (b1 b2)+b3, ...),
    # each pair once; they are taken before any merge by frequency.
    forced, known = [], {bytes([b]): b for b in range(256)}
    for ch in whole_characters:
        data = ch.encode("utf-8")
        for end in range(2, len(data) + 1):
            if data[:end] not in known:
                known[data[:end]] = len(known)
                forced.append((data[:end - 1], data[end - 1:end]))
    forced.reverse()
    ids_of = {bytes([b]): b for b in range(256)}
    while len(merges) < target_merges and (heap or forced):
        if forced:
            left, right = forced.pop()
            pair = (ids_of[left], ids_of[right])
            negative_count = -pair_counts.get(pair, 0)
        else:
            negative_count, pair = heapq.heappop(heap)
            if pair_counts.get(pair, 0) != -negative_count:
                continue  # stale heap entry
            if -negative_count < 2:
                break
        new_id = len(symbols)
        ids_of[symbols[pair[0]] + symbols[pair[1]]] = new_id
        symbols.append(symbols[pair[0]] + symbols[pair[1]])
        merges.append(pair)
        changed = set()
        for index in where.pop(pair, ()):
            word, freq = words[index], freqs[index]
            for old in zip(word, word[1:]):
                pair_counts[old] -= freq
                changed.add(old)
            merged, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and word[i] == pair[0] and word[i + 1] == pair[1]:
                    merged.append(new_id)
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            words[index] = merged
            for new in zip(merged, merged[1:]):
                pair_counts[new] += freq
                where[new].add(index)
                changed.add(new)
        pair_counts.pop(pair, None)
        for p in changed:
            count = pair_counts.get(p, 0)
            if count > 0:
                heapq.heappush(heap, (-count, p))
            elif p in pair_counts:
                del pair_counts[p]
                where.pop(p, None)
        if len(merges) % 500 == 0:
            log(f"bpe: {len(merges)} merges, last {symbols[-1]!r} x{-negative_count}")
    return symbols, merges


def token_string(symbol_bytes):
    return "".join(BYTE_TO_CHAR[b] for b in symbol_bytes)


def tokenizer_json(symbols, merges, max_length):
    vocab = {token_string(s): i for i, s in enumerate(symbols)}
    eot_id = len(symbols)
    vocab[END_OF_TEXT] = eot_id
    merge_strings = [f"{token_string(symbols[a])} {token_string(symbols[b])}" for a, b in merges]
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    # Split by PATTERN_SOURCE (isolated pieces), then bytes -> printable characters without GPT-2's own regex.
    pre_tokenizer = {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": PATTERN_SOURCE}, "behavior": "Isolated", "invert": False},
        {**byte_level, "use_regex": False}]}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [{"id": eot_id, "content": END_OF_TEXT, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": True, "special": True}],
        "normalizer": None,
        "pre_tokenizer": pre_tokenizer,
        "post_processor": {**byte_level, "trim_offsets": False},
        "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False,
                  "vocab": vocab, "merges": merge_strings},
    }


def tokenizer_config_json(max_length):
    return {"tokenizer_class": "GPT2Tokenizer", "model_max_length": max_length, "add_prefix_space": False,
            "bos_token": END_OF_TEXT, "eos_token": END_OF_TEXT, "unk_token": END_OF_TEXT,
            "clean_up_tokenization_spaces": False}


class Encoder:
    """Encodes text exactly as the Hugging Face BPE model with a ByteLevel pre-tokenizer does."""

    def __init__(self, tokenizer_json_path):
        with open(tokenizer_json_path, encoding="utf-8") as f:
            spec = json.load(f)
        self.vocab = spec["model"]["vocab"]
        self.ranks = {tuple(m.split(" ")): i for i, m in enumerate(spec["model"]["merges"])}
        self.eot_id = self.vocab[END_OF_TEXT]
        self.id_to_token = {i: t for t, i in self.vocab.items()}
        self.cache = {}

    def bpe(self, piece):
        """BPE of one pre-token, merging as Hugging Face's Rust `Word::merge_all` does: always the pair of lowest
        merge rank, the leftmost one among equals, found with a heap (linear-time-ish even for the long pre-tokens
        that Chinese text makes: a sentence without spaces is one GPT-2 pre-token)."""
        word = [BYTE_TO_CHAR[b] for b in piece.encode("utf-8")]
        n = len(word)
        if n == 1:
            return [self.vocab[word[0]]]
        ranks = self.ranks
        nxt = list(range(1, n + 1))
        prv = list(range(-1, n - 1))
        alive = [True] * n
        heap = []
        for i in range(n - 1):
            rank = ranks.get((word[i], word[i + 1]))
            if rank is not None:
                heap.append((rank, i, word[i], word[i + 1]))
        heapq.heapify(heap)
        while heap:
            rank, i, left, right = heapq.heappop(heap)
            j = nxt[i] if alive[i] else n
            if j >= n or word[i] != left or word[j] != right:
                continue  # stale: one side has been merged since
            word[i] = left + right
            alive[j] = False
            nxt[i] = nxt[j]
            if nxt[j] < n:
                prv[nxt[j]] = i
            if prv[i] >= 0:
                p = prv[i]
                r = ranks.get((word[p], word[i]))
                if r is not None:
                    heapq.heappush(heap, (r, p, word[p], word[i]))
            if nxt[i] < n:
                r = ranks.get((word[i], word[nxt[i]]))
                if r is not None:
                    heapq.heappush(heap, (r, i, word[i], word[nxt[i]]))
        return [self.vocab[word[i]] for i in range(n) if alive[i]]

    def encode(self, text):
        ids = []
        for piece in pre_tokenize(text):
            cached = self.cache.get(piece)
            if cached is None:
                cached = self.bpe(piece)
                if len(self.cache) < 2_000_000:
                    self.cache[piece] = cached
            ids.extend(cached)
        return ids

    def decode(self, ids):
        byte_decoder = {c: b for b, c in BYTE_TO_CHAR.items()}
        text = "".join(self.id_to_token[i] for i in ids if i != self.eot_id)
        return bytes(byte_decoder[c] for c in text).decode("utf-8", errors="replace")


def read_docs(split=None):
    with open(work_path("corpus", "docs.jsonl"), encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)
            if split is None or doc["split"] == split:
                yield doc


CJK = regex.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
TARGET_ZH = "我爱你"
TARGET_EN = "A fluffy blue creature roamed the verdant forest."
TARGET_EN_MAX = 13


def token_spans(encoder, ids):
    """Character spans [start, end) of each token in the decoded text; a token that holds only part of a
    character's UTF-8 bytes gets the span of the character(s) it touches."""
    byte_decoder = {c: b for b, c in BYTE_TO_CHAR.items()}
    pieces = [bytes(byte_decoder[c] for c in encoder.id_to_token[i]) for i in ids]
    spans, offset, pending = [], 0, b""
    starts = []
    for piece in pieces:
        starts.append(offset)
        pending += piece
        try:
            offset += len(pending.decode("utf-8"))
            pending = b""
        except UnicodeDecodeError:
            pass
        spans.append((starts[-1], offset))
    return [list(s) for s in spans]


def measure(encoder, docs_by_kind, common_words):
    """Tokenizer figures the model card reports (and the vocabulary size is chosen by)."""
    result = {"vocab_size": len(encoder.vocab)}
    for kind, texts in docs_by_kind.items():
        chars = sum(len(t) for t in texts)
        tokens = sum(len(encoder.encode(t)) for t in texts)
        result[f"tokens_per_char_{kind}"] = round(tokens / max(1, chars), 4)
        result[f"held_out_chars_{kind}"] = chars
    zh_ids = encoder.encode(TARGET_ZH)
    result["target_zh"] = {"text": TARGET_ZH, "tokens": len(zh_ids), "spans": token_spans(encoder, zh_ids),
                           "pieces": [encoder.decode([i]) for i in zh_ids]}
    en_ids = encoder.encode(TARGET_EN)
    result["target_en"] = {"text": TARGET_EN, "tokens": len(en_ids), "pieces": [encoder.decode([i]) for i in en_ids]}
    # Share of the Chinese characters of held-out text that no token boundary cuts (whole tokens or whole
    # parts of multi-character tokens).
    byte_decoder = {c: b for b, c in BYTE_TO_CHAR.items()}
    token_bytes = {}
    whole = total = 0
    for text in docs_by_kind.get("zh", []):
        for piece in pre_tokenize(text):
            if not CJK.search(piece):
                continue
            boundaries, offset = set(), 0
            for token in encoder.bpe(piece):
                if token not in token_bytes:
                    token_bytes[token] = len(bytes(byte_decoder[c] for c in encoder.id_to_token[token]))
                offset += token_bytes[token]
                boundaries.add(offset)
            offset = 0
            for ch in piece:
                size = len(ch.encode("utf-8"))
                if CJK.match(ch):
                    total += 1
                    whole += not any(offset < cut < offset + size for cut in range(offset + 1, offset + size) if cut in boundaries)
                offset += size
    result["zh_chars_whole"] = round(whole / max(1, total), 4)
    single = sum(1 for w in common_words if len(encoder.encode(w)) == 1)
    result["common_en_words_single"] = round(single / max(1, len(common_words)), 4)
    result["common_en_words_checked"] = len(common_words)
    return result


def meets_targets(m):
    spans_ok = m["target_zh"]["spans"] == [[0, 1], [1, 2], [2, 3]]
    return (m["target_zh"]["tokens"] == 3 and spans_ok and m["target_en"]["tokens"] <= TARGET_EN_MAX
            and m["zh_chars_whole"] >= 0.98 and m["common_en_words_single"] >= 0.95)


def common_english_words(limit=1000):
    """The most frequent space-prefixed English words (3+ letters) of the training prose."""
    counts = collections.Counter()
    for doc in read_docs("train"):
        if doc["kind"] == "prose":
            counts.update(w for w in regex.findall(r" [a-z]{3,}\b", doc["text"]))
    return [w for w, _ in counts.most_common(limit)]


class PrefixEncoder(Encoder):
    """The tokenizer made of the first `merges` merges of a bigger one (BPE merges are learnt in order)."""

    def __init__(self, spec, merges):
        self.vocab = {t: i for t, i in spec["model"]["vocab"].items() if i < 256 + merges}
        self.vocab[END_OF_TEXT] = 256 + merges
        self.ranks = {tuple(m.split(" ")): i for i, m in enumerate(spec["model"]["merges"][:merges])}
        self.eot_id = self.vocab[END_OF_TEXT]
        self.id_to_token = {i: t for t, i in self.vocab.items()}
        self.cache = {}


def held_out_by_kind(limit_chars=400_000):
    by_kind = collections.defaultdict(list)
    sizes = collections.Counter()
    for doc in read_docs("val"):
        if sizes[doc["kind"]] < limit_chars:
            by_kind[doc["kind"]].append(doc["text"])
            sizes[doc["kind"]] += len(doc["text"])
    return dict(by_kind)


# Everyday English (fortunes, the Devil's Dictionary, GCIDE, WordNet) counts EVERYDAY_WEIGHT times in the pair counts.
EVERYDAY_SOURCES = ("en-fortunes", "en-devil", "en-gcide", "en-wordnet")
EVERYDAY_WEIGHT = 8
WHOLE_CHARACTER_MIN_COUNT = 6


def command_train(args):
    """Everyday English counts EVERYDAY_WEIGHT times in the pair counts: code, technical prose (identifiers) and
    Chinese would otherwise take most merges, leaving everyday English words in pieces. Every CJK character seen at least
    WHOLE_CHARACTER_MIN_COUNT times in training (99.5 % of the CJK characters of the training text) is made whole
    first, most frequent first."""
    docs = list(read_docs("train"))
    texts = [(d["text"], EVERYDAY_WEIGHT if d["source"] in EVERYDAY_SOURCES else 1) for d in docs]
    cjk_counts = collections.Counter()
    for d in docs:
        if d["kind"] == "zh":
            cjk_counts.update(CJK.findall(d["text"]))
    whole = [ch for ch, n in sorted(cjk_counts.items(), key=lambda item: (-item[1], item[0])) if n >= WHOLE_CHARACTER_MIN_COUNT]
    # At most about half of the merges (a character takes one or two): a small vocabulary, as in the smoke test,
    # keeps room for English and code. At 16,384 entries the limit (4,031) is above the 3,183 characters.
    whole = whole[:(args.vocab_size - 257) // 4]
    log(f"bpe: {len(whole)} CJK characters (of {len(cjk_counts)}) made whole first")
    write_json(work_path("tokenizer", "bpe_settings.json"),
               {"whole_characters": len(whole), "cjk_characters_seen": len(cjk_counts), "whole_character_min_count": WHOLE_CHARACTER_MIN_COUNT,
                "everyday_sources": list(EVERYDAY_SOURCES), "everyday_weight": EVERYDAY_WEIGHT, "pattern": PATTERN_SOURCE})
    symbols, merges = train_bpe(texts, args.vocab_size, whole)
    spec = tokenizer_json(symbols, merges, args.max_length)
    if args.choose:
        # Vocabulary size by measurement: the smallest candidate (a prefix of the merges) that meets the targets.
        held_out, words = held_out_by_kind(), common_english_words()
        table = []
        for size in sorted(int(s) for s in args.choose.split(",")):
            m = measure(PrefixEncoder(spec, size - 257), held_out, words)
            m["meets_targets"] = meets_targets(m)
            table.append(m)
            log(f"bpe: vocabulary {size}: " + json.dumps({k: v for k, v in m.items() if not isinstance(v, dict)})
                + f", 我爱你 {m['target_zh']['tokens']} tokens {m['target_zh']['spans']}, English sentence {m['target_en']['tokens']} tokens")
        chosen = next((m["vocab_size"] for m in table if m["meets_targets"]), table[-1]["vocab_size"])
        write_json(work_path("tokenizer", "vocab_choice.json"), {"candidates": table, "chosen": chosen})
        log(f"bpe: chose vocabulary size {chosen}")
        keep = chosen - 257
        symbols, merges = symbols[:256 + keep], merges[:keep]
        spec = tokenizer_json(symbols, merges, args.max_length)
    write_json(work_path("tokenizer", "tokenizer.json"), spec, indent=None)
    write_json(work_path("tokenizer", "tokenizer_config.json"), tokenizer_config_json(args.max_length))
    log(f"bpe: wrote vocabulary of {len(spec['model']['vocab'])} tokens, {len(merges)} merges")


def command_encode(args):
    """Token ids of every split, documents separated by <|endoftext|>; validation kept per kind (code, prose = English,
    zh = Chinese). stats.json: bytes, characters and tokens per stream, per kind of the training split and per source."""
    encoder = Encoder(work_path("tokenizer", "tokenizer.json"))
    streams = collections.defaultdict(list)
    stats = collections.defaultdict(lambda: [0, 0, 0])  # stream -> [bytes, chars, tokens]
    for doc in read_docs():
        ids = encoder.encode(doc["text"])
        key = "train" if doc["split"] == "train" else f"val_{doc['kind']}"
        streams[key].extend(ids)
        streams[key].append(encoder.eot_id)
        size, chars = len(doc["text"].encode("utf-8")), len(doc["text"])
        for name in {key, f"{doc['split']}_{doc['kind']}", doc["source"] + "/" + doc["split"]}:
            stats[name][0] += size
            stats[name][1] += chars
            stats[name][2] += len(ids)
    for key, ids in streams.items():
        np.asarray(ids, dtype=np.uint16 if encoder.eot_id < 65536 else np.uint32).tofile(work_path("tokens", f"{key}.u16"))
        log(f"encode: {key}: {len(ids)} tokens")
    write_json(work_path("tokens", "stats.json"),
               {k: {"bytes": b, "chars": c, "tokens": t, "bytes_per_token": round(b / max(t, 1), 3),
                    "tokens_per_char": round(t / max(c, 1), 4)} for k, (b, c, t) in sorted(stats.items())})


EDGE_CASES = [
    "don't can't we'll I'd they've you're it's",
    "naïve café résumé — “quoted” ‘single’ … ½ × ÷",
    "日本語のテキストと中文文本，还有한국어",
    "emoji 👍🏽 family 👨‍👩‍👧 flag 🇫🇷 and e\u0301 combining",
    "tabs\tand\u00a0non-breaking\u2003em space\r\nwindows line",
    "    indented = [1, 2, 3]  # comment\n\n\n        deeper()\n",
    "x=1e-5;y=0x1F;z=3.14159;  trailing   ",
    "function add(a, b) { return a + b; }",
    "",
    " ",
    "\n\n",
]


def command_cases(args):
    """Held-out texts with their ids from this encoder, for verify_tokenizer.cjs to compare with tokenizers.js."""
    encoder = Encoder(work_path("tokenizer", "tokenizer.json"))
    texts = list(EDGE_CASES) + [TARGET_ZH, TARGET_EN, "我爱你，你爱我吗？", "中文文本的注意力：自注意力机制让每个词元关注前面的词元。"]
    lines = []
    for doc in read_docs("val"):
        lines.extend(line for line in doc["text"].split("\n") if line.strip())
        texts.append(doc["text"][:1500])  # multi-line chunks: newlines and indentation runs matter
    step = max(1, len(lines) // args.lines)
    texts.extend(lines[::step][:args.lines])
    cases = [{"text": t, "ids": encoder.encode(t)} for t in texts]
    write_json(work_path("verify", "tokenizer_cases.json"), cases, indent=None)
    log(f"cases: wrote {len(cases)} texts")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train")
    train.add_argument("--vocab-size", type=int, default=4096)
    train.add_argument("--max-length", type=int, default=512)
    train.add_argument("--choose", metavar="SIZES", help="comma-separated candidate vocabulary sizes (each at most "
                       "--vocab-size): keep the smallest whose tokenizer meets the targets, measured on held-out text")
    sub.add_parser("encode")
    cases = sub.add_parser("cases")
    cases.add_argument("--lines", type=int, default=400)
    args = parser.parse_args()
    {"train": command_train, "encode": command_encode, "cases": command_cases}[args.command](args)


if __name__ == "__main__":
    main()
