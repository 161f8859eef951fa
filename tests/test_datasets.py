"""Tests for examples/datasets.py: shapes, dtypes, seeded determinism, and that every label is right."""

import datetime
import importlib.util
import io
import keyword
import re
import tokenize
from pathlib import Path

import numpy as np
import pytest

_PATH = Path(__file__).resolve().parents[1] / "examples" / "datasets.py"
_spec = importlib.util.spec_from_file_location("tinygrad_rnn_example_datasets", _PATH)
ds = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ds)

ALLOWED = set(map(chr, range(32, 127))) | {"\n", "\t"}


# ------------------------------------------------------------------------------------------- digits

def test_digits_split_shapes_balance_and_determinism():
    pytest.importorskip("sklearn")
    Xtr, ytr, Xte, yte = ds.load_digits_split(test_fraction=0.25, seed=0)
    assert Xtr.dtype == np.float32 and Xte.dtype == np.float32
    assert ytr.dtype == np.int64 and yte.dtype == np.int64
    assert Xtr.shape[1:] == (8, 8) and Xte.shape[1:] == (8, 8)
    assert len(Xtr) == len(ytr) and len(Xte) == len(yte) and len(Xtr) + len(Xte) == 1797
    assert 0.0 <= Xtr.min() and Xtr.max() == 1.0 and Xte.max() <= 1.0
    assert abs(len(Xte) / 1797 - 0.25) < 0.01
    # stratified: every class is within one image of its share
    all_y = np.concatenate([ytr, yte])
    for k in range(10):
        assert abs((yte == k).sum() - 0.25 * (all_y == k).sum()) <= 0.5 + 1e-9
    # the split is a partition of the dataset (no image in both sets, none lost)
    from sklearn.datasets import load_digits
    full = (load_digits().images / 16.0).astype(np.float32).reshape(1797, -1)
    keys = {r.tobytes(): i for i, r in enumerate(full)}
    idx = [keys.get(r.tobytes()) for r in np.concatenate([Xtr, Xte]).reshape(-1, 64)]
    assert None not in idx and len(set(idx)) == len(set(keys.values()))
    again = ds.load_digits_split(test_fraction=0.25, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip((Xtr, ytr, Xte, yte), again, strict=True))
    other = ds.load_digits_split(test_fraction=0.25, seed=1)
    assert not np.array_equal(ytr, other[1])


# --------------------------------------------------------------------------------------- vocabulary

def test_digit_names():
    assert ds.DIGIT_NAMES == ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def test_char_vocab_roundtrip_specials_and_batch():
    v = ds.CharVocab(ds.DIGIT_NAMES)
    assert (v.PAD, v.SOS, v.EOS, v.UNK) == (0, 1, 2, 3)
    assert v.itos[:4] == ["<pad>", "<sos>", "<eos>", "<unk>"]
    assert len(v) == 4 + len(set("".join(ds.DIGIT_NAMES)))
    ids = v.encode("seven", add_sos=True, add_eos=True)
    assert ids.dtype == np.int64 and ids.shape == (7,)
    assert ids[0] == v.SOS and ids[-1] == v.EOS and (ids[1:-1] >= 4).all()
    assert v.decode(ids) == "seven"
    assert v.decode(ids, strip_special=False) == "<sos>seven<eos>"
    assert v.decode(list(ids) + [v.stoi["x"], v.PAD]) == "seven"  # stops at <eos>
    assert v.decode(list(ids) + [v.stoi["x"]], stop_at_eos=False) == "sevenx"
    assert v.encode("q")[0] == v.UNK and v.decode(v.encode("sq")) == "s" + v.UNK_CHAR

    batch, lengths = v.encode_batch(["one", "three", ""], add_eos=True)
    assert batch.dtype == np.int64 and lengths.dtype == np.int64
    assert batch.shape == (3, 6) and lengths.tolist() == [4, 6, 1]
    assert (batch[0, 4:] == v.PAD).all() and batch[2, 0] == v.EOS and (batch[2, 1:] == v.PAD).all()
    assert [v.decode(r) for r in batch] == ["one", "three", ""]
    assert v.encode_batch(["one"], max_len=8)[0].shape == (1, 8)
    with pytest.raises(ValueError):
        v.encode_batch(["three"], max_len=3)


# -------------------------------------------------------------------------------------------- dates

# Independent parsers (strptime is case-insensitive for month/day names); flags: two-digit year,
# weekday to check, ordinal suffix to check.
_PARSE = {
    "d Month yyyy": "%d %B %Y",
    "Month d, yyyy": "%B %d, %Y",
    "mm/dd/yy": "%m/%d/%y",
    "m/d/yyyy": "%m/%d/%Y",
    "Weekday, Month d, yyyy": "%A, %B %d, %Y",
    "d Mon yyyy": "%d %b %Y",
    "yyyy.mm.dd": "%Y.%m.%d",
    "MON d yyyy": "%b %d %Y",
    "the dth of Month yyyy": "the %d of %B %Y",
    "d month yyyy": "%d %B %Y",
    "month d, yyyy": "%B %d, %Y",
    "wkd, d mon yyyy": "%a, %d %b %Y",
    "dd MONTH yyyy": "%d %B %Y",
    "Mon d, 'yy": "%b %d, '%y",
    "yyyymmdd": "%Y%m%d",
    "dth Month yyyy": "%d %B %Y",
}
_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december"]
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def _parse_human(human, fmt):
    text = human
    m = re.search(r"\b(\d{1,2})(st|nd|rd|th)\b", text)
    if "dth" in fmt:
        assert m, human
        day, suffix = int(m.group(1)), m.group(2)
        expected = "th" if 11 <= day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
        assert suffix == expected, human
        text = text[: m.start(2)] + text[m.end(2):]
    d = datetime.datetime.strptime(text, _PARSE[fmt]).date()
    if "yy" in fmt and "yyyy" not in fmt:  # documented pivot: 50-99 -> 19xx, 00-49 -> 20xx
        yy = d.year % 100
        d = d.replace(year=1900 + yy if yy >= 50 else 2000 + yy)
    words = human.lower().replace(",", "").split()
    if fmt.startswith("Weekday"):
        assert words[0] == _WEEKDAYS[d.weekday()], human
    if fmt.startswith("wkd"):
        assert words[0] == _WEEKDAYS[d.weekday()][:3], human
    # month names are spelled as the format says (case included)
    if "MON" in fmt:
        assert human == human.upper()
    if fmt.startswith(("d month", "month", "wkd")):
        assert human == human.lower()
    return d


def test_dates_iso_matches_human_in_every_format():
    pairs = ds.make_dates(1500, seed=0, return_format=True)
    assert len(ds.DATE_FORMATS) >= 12 and set(ds.DATE_FORMATS) == set(_PARSE)
    assert {f for _, _, f in pairs} == set(ds.DATE_FORMATS)  # every format appears
    lo, hi = datetime.date(1950, 1, 1), datetime.date(2049, 12, 31)
    for human, iso, fmt in pairs:
        d = datetime.date.fromisoformat(iso)
        assert d.isoformat() == iso and lo <= d <= hi
        assert _parse_human(human, fmt) == d, (human, iso, fmt)
    years = np.array([int(iso[:4]) for _, iso, _ in pairs])
    assert years.min() < 1960 and years.max() > 2040  # spans the whole century
    assert all(set(h) <= ALLOWED for h, _, _ in pairs)


def test_dates_deterministic_and_pairs_form():
    a = ds.make_dates(50, seed=3)
    assert a == ds.make_dates(50, seed=3) and a != ds.make_dates(50, seed=4)
    assert all(isinstance(p, tuple) and len(p) == 2 for p in a)
    assert [p[:2] for p in ds.make_dates(50, seed=3, return_format=True)] == a


def test_date_formats_on_a_known_date():
    got = {ds._DATE_TEMPLATES[f](ds._fmt(datetime.date(2019, 3, 3))) for f in ds.DATE_FORMATS}
    for s in ["3 March 2019", "March 3, 2019", "03/03/19", "Sunday, March 3, 2019", "3 Mar 2019",
              "2019.03.03", "MAR 3 2019", "3/3/2019", "the 3rd of March 2019", "3 march 2019"]:
        assert s in got
    assert ds._DATE_TEMPLATES["mm/dd/yy"](ds._fmt(datetime.date(1955, 12, 1))) == "12/01/55"
    assert ds._DATE_TEMPLATES["dth Month yyyy"](ds._fmt(datetime.date(2001, 1, 12))) == "12th January 2001"


# ------------------------------------------------------------------------------------------- corpus

def test_stdlib_corpus_charset_length_and_determinism():
    text = ds.load_stdlib_corpus(max_chars=30_000, seed=0)
    assert isinstance(text, str) and len(text) == 30_000
    assert set(text) <= ALLOWED
    assert "def " in text and "import " in text
    assert text == ds.load_stdlib_corpus(max_chars=30_000, seed=0)
    assert text != ds.load_stdlib_corpus(max_chars=30_000, seed=1)
    root, files = ds._stdlib_files()
    assert list(files) == sorted(files) and len(files) > 100
    assert not any(part in ("test", "tests", "site-packages") for f in files for part in f.split("/")[:-1])


def test_split_text():
    train, val = ds.split_text("abcdefghij" * 10, val_fraction=0.1)
    assert len(train) == 90 and len(val) == 10 and train + val == "abcdefghij" * 10


# ------------------------------------------------------------------------------------------ tagging

def test_tag_source_known_snippet():
    src = "if x == 10:  # hi\n"
    text, tags = ds.tag_source(src)
    assert text == src and tags.dtype == np.int64 and tags.shape == (len(src),)
    names = [ds.TAG_NAMES[t] for t in tags]
    expected = (["keyword"] * 2 + ["space"] + ["name"] + ["space"] + ["operator"] * 2 + ["space"]
                + ["number"] * 2 + ["operator"] + ["space"] * 2 + ["comment"] * 4 + ["space"])
    assert names == expected


def test_tag_source_agrees_with_tokenize_and_drops_non_ascii():
    src = "def f(a, *, b=None) -> int:\n    s = 'x' + \"y\"  # c\n    return 3.5e-2 if a else True\n"
    text, tags = ds.tag_source(src)
    assert text == src
    lines = src.splitlines(keepends=True)
    starts = np.cumsum([0] + [len(ln) for ln in lines])
    want = {tokenize.NUMBER: "number", tokenize.STRING: "string", tokenize.COMMENT: "comment",
            tokenize.OP: "operator"}
    seen = set()
    for tok in tokenize.generate_tokens(io.StringIO(src).readline):
        a = starts[tok.start[0] - 1] + tok.start[1]
        b = starts[tok.end[0] - 1] + tok.end[1]
        if tok.type == tokenize.NAME:
            name = "keyword" if keyword.iskeyword(tok.string) else "name"
        elif tok.type in want:
            name = want[tok.type]
        else:
            continue
        seen.add(name)
        assert [ds.TAG_NAMES[t] for t in tags[a:b]] == [name] * (b - a), tok
    assert seen == set(ds.TAG_NAMES) - {"space"}
    # f-strings are one "string" span on every Python version; non-ASCII characters leave with their tags
    text, tags = ds.tag_source("s = f'{a + 1}é'  # ü\r\n")
    assert text == "s = f'{a + 1}'  # \n"
    assert "".join("_KNnSCo"[t] for t in tags) == "N_o_SSSSSSSSSS__CC_"


def test_make_token_tagging_windows():
    chars, tags, vocab, names = ds.make_token_tagging(40, seq_len=32, seed=0, max_chars=20_000)
    assert chars.shape == (40, 32) and tags.shape == (40, 32)
    assert chars.dtype == np.int64 and tags.dtype == np.int64
    assert names == ds.TAG_NAMES and tags.min() >= 0 and tags.max() < len(names)
    assert len(vocab) == 4 + len(ALLOWED) and chars.min() >= 4 and chars.max() < len(vocab)
    again = ds.make_token_tagging(40, seq_len=32, seed=0, max_chars=20_000)
    assert np.array_equal(chars, again[0]) and np.array_equal(tags, again[1])
    assert not np.array_equal(chars, ds.make_token_tagging(40, seq_len=32, seed=1, max_chars=20_000)[0])
    for row, trow in zip(chars, tags, strict=True):
        for c, t in zip(vocab.decode(row), trow, strict=True):
            tag = names[t]
            if tag == "keyword":
                assert c.isalpha()
            elif tag == "name":
                assert c.isalnum() or c == "_"
            elif tag == "number":
                assert c in "0123456789abcdefABCDEFxXoObBjJ_.+-"
            elif tag == "space":
                assert c in " \t\n\\"


# ---------------------------------------------------------------------------------------- long-range

def test_adding_problem():
    X, y = ds.adding_problem(200, 50, seed=0)
    assert X.shape == (200, 50, 2) and y.shape == (200,)
    assert X.dtype == np.float32 and y.dtype == np.float32
    vals, marks = X[..., 0], X[..., 1]
    assert (vals >= 0).all() and (vals < 1).all()
    assert set(np.unique(marks).tolist()) == {0.0, 1.0}
    assert (marks[:, :25].sum(1) == 1).all() and (marks[:, 25:].sum(1) == 1).all()
    np.testing.assert_allclose(y, (vals * marks).sum(1), rtol=1e-6)
    X2, y2 = ds.adding_problem(200, 50, seed=0)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    assert not np.array_equal(X, ds.adding_problem(200, 50, seed=1)[0])
    X3, _ = ds.adding_problem(10, 3, seed=0)  # odd T: first half [0, 1), second half [1, 3)
    assert (X3[:, 0, 1] == 1).all() and (X3[:, 1:, 1].sum(1) == 1).all()


def test_copy_task_layout():
    T, K, S = 30, 10, 8
    X, Y = ds.copy_task(64, T, n_symbols=S, copy_len=K, seed=0)
    assert X.shape == Y.shape == (64, T + 2 * K) and X.dtype == Y.dtype == np.int64
    assert ((X[:, :K] >= 1) & (X[:, :K] <= S)).all()
    assert (X[:, K:T + K - 1] == 0).all() and (X[:, T + K - 1] == S + 1).all() and (X[:, T + K:] == 0).all()
    assert (Y[:, :T + K] == 0).all() and np.array_equal(Y[:, T + K:], X[:, :K])
    assert X.max() == S + 1 and len(np.unique(X[:, :K])) == S
    X2, Y2 = ds.copy_task(64, T, n_symbols=S, copy_len=K, seed=0)
    assert np.array_equal(X, X2) and np.array_equal(Y, Y2)
