# Offline data for the example scripts: sklearn's bundled digits, a character vocabulary, a date-translation
# task, a character corpus and a token-tagging task built from the local Python standard library, and the
# adding / copy-memory long-range tasks. Nothing is downloaded; every generator is deterministic for a seed.

import datetime
import functools
import io
import keyword
import os
import re
import sysconfig
import token
import tokenize
import warnings

import numpy as np

__all__ = [
    "load_digits_split", "DIGIT_NAMES", "CharVocab", "ALLOWED_CHARS", "DATE_FORMATS", "make_dates",
    "load_stdlib_corpus", "split_text", "TAG_NAMES", "tag_source", "make_token_tagging",
    "adding_problem", "copy_task",
]

# ----------------------------------------------------------------------------------------------- digits

DIGIT_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def load_digits_split(test_fraction=0.25, seed=0):
    """sklearn's bundled 8x8 handwritten digits (1797 images), split per class.

    Returns (X_train, y_train, X_test, y_test): X float32 of shape (N, 8, 8) with pixels scaled from 0..16
    to [0, 1] (read the 8 rows as a length-8 sequence of 8 features), y int64 of shape (N,) in 0..9.
    Each class contributes round(test_fraction * class_size) images to the test set, so both sets keep the
    class balance; both sets come out in a seeded random order.
    """
    from sklearn.datasets import load_digits  # lazy: the other datasets need no scikit-learn

    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    digits = load_digits()
    X = (digits.images / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    rng = np.random.default_rng(seed)
    train_idx, test_idx = [], []
    for k in range(10):
        idx = rng.permutation(np.flatnonzero(y == k))
        n_test = int(round(test_fraction * len(idx)))
        test_idx.append(idx[:n_test])
        train_idx.append(idx[n_test:])
    train_idx = rng.permutation(np.concatenate(train_idx))
    test_idx = rng.permutation(np.concatenate(test_idx))
    return X[train_idx], y[train_idx], X[test_idx], y[test_idx]


# ------------------------------------------------------------------------------------------- vocabulary

# Printable ASCII (space .. '~') plus newline and tab: the character set of the corpus and tagging tasks.
ALLOWED_CHARS = "".join(chr(c) for c in range(32, 127)) + "\n\t"


class CharVocab:
    """Character vocabulary with special tokens <pad>=0, <sos>=1, <eos>=2, <unk>=3; characters follow
    from id 4 in sorted order. Built from an iterable of strings (a single string works too)."""

    PAD, SOS, EOS, UNK = 0, 1, 2, 3
    SPECIALS = ("<pad>", "<sos>", "<eos>", "<unk>")
    UNK_CHAR = "\ufffd"  # how <unk> decodes when special tokens are stripped

    def __init__(self, texts):
        self.chars = sorted({c for text in texts for c in text})
        self.itos = list(self.SPECIALS) + self.chars
        self.stoi = {c: i for i, c in enumerate(self.chars, start=len(self.SPECIALS))}

    def __len__(self):
        return len(self.itos)

    def __repr__(self):
        return f"CharVocab({len(self.chars)} chars + {len(self.SPECIALS)} specials)"

    def encode(self, text, add_sos=False, add_eos=False):
        """str -> int64 array of shape (len(text) + add_sos + add_eos,); unknown characters map to <unk>."""
        ids = [self.stoi.get(c, self.UNK) for c in text]
        if add_sos:
            ids.insert(0, self.SOS)
        if add_eos:
            ids.append(self.EOS)
        return np.asarray(ids, dtype=np.int64)

    def decode(self, ids, strip_special=True, stop_at_eos=True):
        """Ids (any 1-D int sequence) -> str. stop_at_eos cuts after the first <eos>. With strip_special,
        <pad>/<sos>/<eos> are dropped and <unk> becomes UNK_CHAR; otherwise they are written as '<pad>' etc."""
        out = []
        for i in ids:
            i = int(i)
            if i < len(self.SPECIALS):
                if not strip_special:
                    out.append(self.SPECIALS[i])
                elif i == self.UNK:
                    out.append(self.UNK_CHAR)
                if i == self.EOS and stop_at_eos:
                    break
            else:
                out.append(self.itos[i])
        return "".join(out)

    def encode_batch(self, texts, add_sos=False, add_eos=False, max_len=None):
        """List of N strings -> (ids, lengths): ids int64 (N, L) padded with <pad>=0, lengths int64 (N,)
        counting the sos/eos tokens. L is the longest length, or max_len (a longer sequence raises)."""
        seqs = [self.encode(t, add_sos, add_eos) for t in texts]
        lengths = np.array([len(s) for s in seqs], dtype=np.int64)
        longest = int(lengths.max()) if len(seqs) else 0
        if max_len is None:
            max_len = longest
        elif longest > max_len:
            raise ValueError(f"a sequence has {longest} tokens, more than max_len={max_len}")
        ids = np.full((len(seqs), max_len), self.PAD, dtype=np.int64)
        for row, s in zip(ids, seqs, strict=True):
            row[: len(s)] = s
        return ids, lengths


# ---------------------------------------------------------------------------------------------- dates

_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_DATE_LO, _DATE_HI = datetime.date(1950, 1, 1), datetime.date(2049, 12, 31)


def _ordinal(n):
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _fmt(d):
    """Fields used by the formats below."""
    month = _MONTHS[d.month - 1]
    return dict(d=d.day, m=d.month, y=d.year, yy=d.year % 100, M=month, Mon=month[:3],
                W=_WEEKDAYS[d.weekday()], Wd=_WEEKDAYS[d.weekday()][:3], nth=_ordinal(d.day))


# Human formats (name -> template). Every numeric day/month format is month-first (US order: mm/dd/yy,
# m/d/yyyy) or year-first (yyyy.mm.dd, yyyymmdd); no day-first numeric format exists, so no string is
# ambiguous. Two-digit years mean 1950-1999 for 50-99 and 2000-2049 for 00-49, exactly the date range.
_DATE_TEMPLATES = {
    "d Month yyyy": lambda f: f"{f['d']} {f['M']} {f['y']}",                     # 3 March 2019
    "Month d, yyyy": lambda f: f"{f['M']} {f['d']}, {f['y']}",                   # March 3, 2019
    "mm/dd/yy": lambda f: f"{f['m']:02d}/{f['d']:02d}/{f['yy']:02d}",            # 03/03/19
    "m/d/yyyy": lambda f: f"{f['m']}/{f['d']}/{f['y']}",                         # 3/3/2019
    "Weekday, Month d, yyyy": lambda f: f"{f['W']}, {f['M']} {f['d']}, {f['y']}",  # Sunday, March 3, 2019
    "d Mon yyyy": lambda f: f"{f['d']} {f['Mon']} {f['y']}",                     # 3 Mar 2019
    "yyyy.mm.dd": lambda f: f"{f['y']}.{f['m']:02d}.{f['d']:02d}",               # 2019.03.03
    "MON d yyyy": lambda f: f"{f['Mon'].upper()} {f['d']} {f['y']}",             # MAR 3 2019
    "the dth of Month yyyy": lambda f: f"the {f['nth']} of {f['M']} {f['y']}",   # the 3rd of March 2019
    "d month yyyy": lambda f: f"{f['d']} {f['M'].lower()} {f['y']}",             # 3 march 2019
    "month d, yyyy": lambda f: f"{f['M'].lower()} {f['d']}, {f['y']}",           # march 3, 2019
    "wkd, d mon yyyy": lambda f: f"{f['Wd'].lower()}, {f['d']} {f['Mon'].lower()} {f['y']}",  # sun, 3 mar 2019
    "dd MONTH yyyy": lambda f: f"{f['d']:02d} {f['M'].upper()} {f['y']}",        # 03 MARCH 2019
    "Mon d, 'yy": lambda f: f"{f['Mon']} {f['d']}, '{f['yy']:02d}",              # Mar 3, '19
    "yyyymmdd": lambda f: f"{f['y']}{f['m']:02d}{f['d']:02d}",                   # 20190303
    "dth Month yyyy": lambda f: f"{f['nth']} {f['M']} {f['y']}",                 # 3rd March 2019
}
DATE_FORMATS = tuple(_DATE_TEMPLATES)


def make_dates(n, seed=0, return_format=False):
    """n (human, iso) string pairs, e.g. ("Sunday, March 3, 2019", "2019-03-03").

    Dates are uniform over 1950-01-01 .. 2049-12-31; each pair uses one of the DATE_FORMATS chosen
    uniformly. With return_format=True the items are (human, iso, format_name) triples.
    """
    rng = np.random.default_rng(seed)
    ordinals = rng.integers(_DATE_LO.toordinal(), _DATE_HI.toordinal() + 1, size=n)
    which = rng.integers(0, len(DATE_FORMATS), size=n)
    out = []
    for o, k in zip(ordinals.tolist(), which.tolist(), strict=True):
        d = datetime.date.fromordinal(o)
        name = DATE_FORMATS[k]
        human = _DATE_TEMPLATES[name](_fmt(d))
        out.append((human, d.isoformat(), name) if return_format else (human, d.isoformat()))
    return out


# ---------------------------------------------------------------------------------- stdlib source text

_SKIP_DIRS = {"test", "tests", "idle_test", "site-packages", "dist-packages", "__pycache__"}


@functools.lru_cache(maxsize=1)
def _stdlib_files():
    """Sorted relative paths of the standard library's .py files, test directories and site-packages left out."""
    root = sysconfig.get_paths()["stdlib"]
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("test")]
        rel = os.path.relpath(dirpath, root)
        found += [os.path.normpath(os.path.join(rel, f)).replace(os.sep, "/")
                  for f in filenames if f.endswith(".py")]
    return root, tuple(sorted(found))


def _read_sources(seed):
    """Yield (relative path, text) for the stdlib files that decode as UTF-8, newlines normalised to '\\n'.
    Files are taken in sorted order, then shuffled by a generator seeded with `seed` (None keeps sorted order)."""
    root, files = _stdlib_files()
    order = range(len(files)) if seed is None else np.random.default_rng(seed).permutation(len(files))
    for i in order:
        path = files[int(i)]
        try:
            with open(os.path.join(root, path), "rb") as fh:
                text = fh.read().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        yield path, text.replace("\r\n", "\n").replace("\r", "\n")


_DISALLOWED = re.compile(r"[^\x20-\x7e\n\t]")


def load_stdlib_corpus(max_chars=2_000_000, seed=0):
    """Python source from this machine's standard library as one str of at most max_chars characters.

    Files (no test directories, no site-packages, no files that fail UTF-8 decoding) are sorted by path and
    shuffled with `seed` (seed=None keeps plain sorted order), so a short cut still spans many modules.
    '\\r\\n' and '\\r' become '\\n'; every character outside ALLOWED_CHARS (printable ASCII, '\\n', '\\t') is
    dropped. Files are separated by one blank line. max_chars=None keeps everything. The text depends on
    the installed Python version, but is fixed for one installation and seed.
    """
    pieces, total = [], 0
    for _, text in _read_sources(seed):
        text = _DISALLOWED.sub("", text)
        if not text.endswith("\n"):
            text += "\n"
        pieces.append(text + "\n")
        total += len(text) + 1
        if max_chars is not None and total >= max_chars:
            break
    corpus = "".join(pieces)
    return corpus if max_chars is None else corpus[:max_chars]


def split_text(text, val_fraction=0.1):
    """Contiguous split: (train, val) with val the last round(val_fraction * len(text)) characters."""
    n_val = int(round(val_fraction * len(text)))
    return text[: len(text) - n_val], text[len(text) - n_val:]


# -------------------------------------------------------------------------------------- token tagging

# Tag ids are positions in this list. "keyword": NAME tokens with keyword.iskeyword (hard keywords, incl.
# True/False/None; soft keywords such as match/case/type stay "name"); "name": other NAMEs; "number";
# "string": string literals with their prefixes and quotes; a whole f-string (or t-string), replacement
# fields included, is "string" on every Python version, as 3.10/3.11 tokenize it; "comment": '#' to end of
# line; "operator": OP tokens (brackets, ':', ',', '.', '=', '->', ...); "space": everything else
# (blanks, newlines, indentation, line continuations, error tokens).
TAG_NAMES = ["space", "keyword", "name", "number", "string", "comment", "operator"]
_TAG = {name: i for i, name in enumerate(TAG_NAMES)}
_FSTART = {getattr(token, n) for n in ("FSTRING_START", "TSTRING_START") if hasattr(token, n)}
_FEND = {getattr(token, n) for n in ("FSTRING_END", "TSTRING_END") if hasattr(token, n)}
_SIMPLE = {token.NUMBER: _TAG["number"], token.STRING: _TAG["string"], token.COMMENT: _TAG["comment"],
           token.OP: _TAG["operator"]}


def _token_spans(text):
    """(start, end, tag) character spans of the tokens of Python source `text` (newlines already '\\n').
    Raises tokenize.TokenError / SyntaxError when the tokenizer rejects the text."""
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def offset(row_col):
        row, col = row_col
        return min(line_starts[row - 1] + col, len(text)) if row <= len(line_starts) else len(text)

    spans, fstring_depth, fstring_start = [], 0, 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in _FSTART:
                if fstring_depth == 0:
                    fstring_start = offset(tok.start)
                fstring_depth += 1
            elif tok.type in _FEND:
                fstring_depth -= 1
                if fstring_depth == 0:
                    spans.append((fstring_start, offset(tok.end), _TAG["string"]))
            elif fstring_depth:
                continue
            elif tok.type == token.NAME:
                tag = _TAG["keyword"] if keyword.iskeyword(tok.string) else _TAG["name"]
                spans.append((offset(tok.start), offset(tok.end), tag))
            elif tok.type in _SIMPLE:
                spans.append((offset(tok.start), offset(tok.end), _SIMPLE[tok.type]))
    return spans


def tag_source(text):
    """Tag every character of Python source: returns (clean_text, tags) with tags int64 of shape
    (len(clean_text),) indexing TAG_NAMES. '\\r\\n'/'\\r' become '\\n' before tokenizing; characters outside
    ALLOWED_CHARS are then dropped together with their tags. Raises if `tokenize` rejects the source."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    tags = np.zeros(len(text), dtype=np.int64)
    for start, end, tag in _token_spans(text):
        tags[start:end] = tag
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    keep = ((codes >= 32) & (codes <= 126)) | (codes == 10) | (codes == 9)
    return _DISALLOWED.sub("", text), tags[keep]


@functools.lru_cache(maxsize=4)
def _tagged_stream(max_chars, seed):
    """Concatenated (char codes, tags) of tokenizable stdlib files, files separated by a '\\n' tagged space."""
    codes, tags, total = [], [], 0
    for _, text in _read_sources(seed):
        try:
            clean, t = tag_source(text)
        except (tokenize.TokenError, SyntaxError):
            continue
        codes.append(np.frombuffer((clean + "\n").encode("ascii"), dtype=np.uint8))
        tags.append(np.append(t, _TAG["space"]))
        total += len(clean) + 1
        if total >= max_chars:
            break
    return np.concatenate(codes)[:max_chars], np.concatenate(tags)[:max_chars]


def make_token_tagging(n_sequences, seq_len=64, seed=0, max_chars=300_000):
    """Per-character token-type tagging windows over stdlib source, for a bidirectional tagger.

    Tokenizes stdlib files (in the seeded order of load_stdlib_corpus; files `tokenize` rejects are skipped)
    until max_chars characters are tagged, then cuts n_sequences windows of seq_len characters at seeded
    uniform random offsets (windows may overlap). Returns (chars, tags, char_vocab, tag_names):
    chars int64 (N, L) ids from char_vocab (a CharVocab over ALLOWED_CHARS, so ids never depend on the data),
    tags int64 (N, L) indexing tag_names (= TAG_NAMES, see the comment above it).
    """
    codes, tags = _tagged_stream(max_chars, seed)
    if len(codes) < seq_len:
        raise ValueError(f"only {len(codes)} tagged characters, fewer than seq_len={seq_len}")
    vocab = CharVocab(ALLOWED_CHARS)
    lut = np.full(128, CharVocab.UNK, dtype=np.int64)
    for c, i in vocab.stoi.items():
        lut[ord(c)] = i
    starts = np.random.default_rng(seed).integers(0, len(codes) - seq_len + 1, size=n_sequences)
    idx = starts[:, None] + np.arange(seq_len)[None, :]
    return lut[codes[idx]], tags[idx].astype(np.int64), vocab, list(TAG_NAMES)


# --------------------------------------------------------------------------------- long-range synthetic

def adding_problem(n, T, seed=0):
    """The adding problem (Hochreiter & Schmidhuber 1997; Le et al. 2015).

    Returns X float32 (n, T, 2) and y float32 (n,). X[..., 0] holds values drawn from U(0, 1); X[..., 1]
    is 0 except for two markers set to 1: one at a uniform step of the first half [0, T//2), one in the
    second half [T//2, T). The target is the sum of the two marked values (the float32 values in X).
    """
    if T < 2:
        raise ValueError(f"T must be at least 2, got {T}")
    rng = np.random.default_rng(seed)
    X = np.zeros((n, T, 2), dtype=np.float32)
    X[:, :, 0] = rng.random((n, T), dtype=np.float32)
    rows = np.arange(n)
    first = rng.integers(0, T // 2, size=n)
    second = rng.integers(T // 2, T, size=n)
    X[rows, first, 1] = 1.0
    X[rows, second, 1] = 1.0
    y = X[rows, first, 0] + X[rows, second, 0]
    return X, y.astype(np.float32)


def copy_task(n, T, n_symbols=8, copy_len=10, seed=0):
    """The copy-memory task (Hochreiter & Schmidhuber 1997; layout of Arjovsky et al. 2016).

    Alphabet: 0 = blank, 1..n_symbols = data symbols, n_symbols + 1 = delimiter (vocabulary n_symbols + 2).
    Both arrays are int64 of shape (n, T + 2 * copy_len):
      X = copy_len random data symbols, T - 1 blanks, the delimiter, copy_len blanks;
      Y = T + copy_len blanks, then the same copy_len data symbols.
    The delimiter sits at step T + copy_len - 1; the model must reproduce the symbols right after it.
    """
    if T < 1 or copy_len < 1 or n_symbols < 1:
        raise ValueError("T, copy_len and n_symbols must all be at least 1")
    rng = np.random.default_rng(seed)
    L = T + 2 * copy_len
    symbols = rng.integers(1, n_symbols + 1, size=(n, copy_len))
    X = np.zeros((n, L), dtype=np.int64)
    Y = np.zeros((n, L), dtype=np.int64)
    X[:, :copy_len] = symbols
    X[:, T + copy_len - 1] = n_symbols + 1
    Y[:, T + copy_len:] = symbols
    return X, Y
