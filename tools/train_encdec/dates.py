"""The synthetic date-normalisation task and its tokenizer.

Source: an English date phrase ("March 5, 2021", "the 5th of March, 2021", "Fri, 5 Mar 2021", ...).
Target: the ISO date "2021-03-05". Every phrase is generated from a real calendar date (leap days
included), so the weekday, when there is one, is always the right one.

Tokenizer: one shared vocabulary for source and target, so one tokenizer.json serves both sides.
Lower-casing normalizer; Whitespace pre-tokenizer (\\w+|[^\\w\\s]+) then Digits with individual digits;
a WordPiece model whose vocabulary holds whole words only (no ## pieces), which makes it a word-level
tokenizer with an <unk> for unknown words. (@huggingface/tokenizers 0.2.0 has no real WordLevel model:
it falls back to a legacy model that gives unknown words no id at all.) "</s>" is appended by a
TemplateProcessing post-processor; the Fuse decoder joins target tokens back into "2021-03-05".
The Python encoder below mirrors that pipeline; check_model.ts compares it with tokenizers.js.
"""
import calendar
import datetime
import random
import re

PAD, EOS, UNK = "<pad>", "</s>", "<unk>"
SPECIALS = [PAD, EOS, UNK]

MONTHS = [calendar.month_name[m].lower() for m in range(1, 13)]
MONTH_ABBREVIATIONS = [calendar.month_abbr[m].lower() for m in range(1, 13)]
WEEKDAYS = [calendar.day_name[d].lower() for d in range(7)]
WEEKDAY_ABBREVIATIONS = [calendar.day_abbr[d].lower() for d in range(7)]
ORDINAL_SUFFIXES = ["st", "nd", "rd", "th"]
WORDS = ["the", "of", "on"]
PUNCTUATION = [",", ".", "-"]
DIGITS = [str(d) for d in range(10)]

VOCAB = SPECIALS + DIGITS + PUNCTUATION + MONTHS + [m for m in MONTH_ABBREVIATIONS if m not in MONTHS] + ["sept"] \
    + WEEKDAYS + WEEKDAY_ABBREVIATIONS + ORDINAL_SUFFIXES + WORDS
TOKEN_ID = {token: i for i, token in enumerate(VOCAB)}
assert len(TOKEN_ID) == len(VOCAB), "duplicate vocabulary entries"

YEARS = (1800, 2199)  # inclusive; digit tokens let any year be written, these are the trained ones


def ordinal(day):
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def month_word(date, rng):
    """Full name or abbreviation ("Sept" too), with or without the abbreviation's period."""
    full = calendar.month_name[date.month]
    if rng.random() < 0.55:
        return full
    short = "Sept" if date.month == 9 and rng.random() < 0.3 else calendar.month_abbr[date.month]
    return short + ("." if rng.random() < 0.3 and short != "May" else "")


def day_word(date, rng):
    return ordinal(date.day) if rng.random() < 0.3 else str(date.day)


def weekday_prefix(date, rng):
    if rng.random() < 0.8:
        return ""
    name = calendar.day_name[date.weekday()] if rng.random() < 0.6 else calendar.day_abbr[date.weekday()]
    return name + ", "


# Each format takes (day, month, year, date, rng) and returns the phrase without the weekday.
FORMATS = [
    lambda d, m, y, date, rng: f"{m} {d}, {y}",                       # March 5, 2021
    lambda d, m, y, date, rng: f"{m} {d} {y}",                        # Mar 5 2021
    lambda d, m, y, date, rng: f"{d} {m} {y}",                        # 5 March 2021
    lambda d, m, y, date, rng: f"{d} {m}, {y}",                       # 5 March, 2021
    lambda d, m, y, date, rng: f"the {ordinal(date.day)} of {m}, {y}",  # the 5th of March, 2021
    lambda d, m, y, date, rng: f"the {ordinal(date.day)} of {m} {y}",   # the 5th of March 2021
    lambda d, m, y, date, rng: f"{m} the {ordinal(date.day)}, {y}",     # March the 5th, 2021
    lambda d, m, y, date, rng: f"{y} {m} {d}",                        # 2021 March 5
    lambda d, m, y, date, rng: f"{date.day}-{m}-{y}",                   # 5-Mar-2021
]


def random_date(rng):
    start = datetime.date(YEARS[0], 1, 1).toordinal()
    end = datetime.date(YEARS[1], 12, 31).toordinal()
    return datetime.date.fromordinal(rng.randint(start, end))


def phrase(date, rng):
    fmt = rng.choice(FORMATS)
    text = fmt(day_word(date, rng), month_word(date, rng), str(date.year), date, rng)
    text = weekday_prefix(date, rng) + text
    return text.lower() if rng.random() < 0.1 else text


def iso(date):
    return date.isoformat()


def every_day_of(year):
    """Coverage set: each day of `year` in six plain patterns (dates may also occur in training)."""
    pairs = []
    day = datetime.date(year, 1, 1)
    while day.year == year:
        full, short = calendar.month_name[day.month], calendar.month_abbr[day.month]
        for text in [f"{day.day} {full} {year}", f"{full} {day.day}, {year}", f"the {ordinal(day.day)} of {full}, {year}",
                     f"{short} {day.day} {year}", f"{year} {full} {day.day}", f"{day.day}-{short}-{year}"]:
            pairs.append((text, iso(day)))
        day += datetime.timedelta(days=1)
    return pairs


def make_split(count, seed, exclude=frozenset()):
    """`count` (phrase, iso) pairs over distinct dates not in `exclude`, from a seeded generator."""
    rng = random.Random(seed)
    pairs, used = [], set()
    while len(pairs) < count:
        date = random_date(rng)
        if date in exclude:
            continue
        used.add(date)
        pairs.append((phrase(date, rng), iso(date)))
    return pairs, used


# ---------------------------------------------------------------- tokenizer (Python mirror)

# tokenizers.js's patterns, spelled out: JavaScript's \w and \d are ASCII-only, its \s is Unicode
# whitespace plus U+FEFF (Python's \s lacks U+FEFF and includes U+001C-U+001F).
JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
WHITESPACE_RE = re.compile(f"[A-Za-z0-9_]+|[^A-Za-z0-9_{JS_SPACE}]+")  # Whitespace: /\w+|[^\w\s]+/g
DIGITS_RE = re.compile(r"[^0-9]+|[0-9]")  # Digits with individual_digits: /[^\d]+|\d/gu


def pre_tokenize(text):
    words = []
    for piece in WHITESPACE_RE.findall(text.lower()):
        words.extend(DIGITS_RE.findall(piece))
    return words


def encode(text):
    """Token ids as tokenizer.json encodes them: words, then </s>."""
    return [TOKEN_ID.get(word, TOKEN_ID[UNK]) for word in pre_tokenize(text)] + [TOKEN_ID[EOS]]


def decode(ids):
    """Inverse of the target side: ids (without </s>) -> "2021-03-05"."""
    return "".join(VOCAB[i] for i in ids if VOCAB[i] not in SPECIALS)


def tokenizer_json():
    special = [{"id": TOKEN_ID[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                "normalized": False, "special": True} for t in SPECIALS]
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": special,
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Whitespace"}, {"type": "Digits", "individual_digits": True}]},
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": EOS, "type_id": 0}}],
                           "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 0}},
                                    {"SpecialToken": {"id": EOS, "type_id": 0}}],
                           "special_tokens": {EOS: {"id": EOS, "ids": [TOKEN_ID[EOS]], "tokens": [EOS]}}},
        "decoder": {"type": "Fuse"},
        "model": {"type": "WordPiece", "unk_token": UNK, "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": dict(TOKEN_ID)},
    }


def tokenizer_config_json(max_length):
    return {"model_max_length": max_length, "pad_token": PAD, "eos_token": EOS, "unk_token": UNK,
            "tokenizer_class": "PreTrainedTokenizerFast"}
