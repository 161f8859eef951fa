"""Small text helpers for DOT: escaping for HTML-like labels and quoted strings, number and shape formats, unicode
subscripts, small fonts and label tables. Imports: the standard library only."""


def esc(text):
    """Text for an HTML-like label: &, <, > and quotes escaped; unicode kept."""
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("\n", "<BR/>"))


def q(text):
    """A double-quoted DOT string (ids, tooltips): backslashes and quotes escaped, newlines as \\n."""
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def fmt(x):
    if x is None:
        return "–"
    return "0" if x == 0 else f"{x:.1e}" if x < 1e-2 or x >= 1e3 else f"{x:.3g}"


def shape_text(shape):
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def label_table(rows, **attrs):
    extra = "".join(f' {k.upper()}="{v}"' for k, v in attrs.items())
    body = "".join(f"<TR><TD{a}>{c}</TD></TR>" for c, a in rows)
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1"{extra}>{body}</TABLE>>'


def sub(t):
    """A time index as unicode subscript digits (x₀, y₁₂): renders the same in every SVG viewer, unlike <SUB>."""
    return str(t).translate(_SUB)


_SUB = str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋")


def small(text, color="#555555", size=9):
    return f'<FONT POINT-SIZE="{size}" COLOR="{color}">{text}</FONT>'
