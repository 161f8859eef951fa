"""Run every example at its default arguments and write the README's results table: the one source of the figures
that the README and the docstrings quote. Imports: the standard library only (each example runs in its own process).

Each example runs as a user would run it (`python examples/NAME.py --out OUT/NAME --json ...`), one at a time,
its log in OUT/NAME.log; its metrics, claims, wall time and CPU time go to OUT/results/NAME.json, and the table
is rebuilt from every stored result, so one example can be rerun alone (--only) and --table-only rebuilds the
table without running anything.

    python examples/run_all.py                      # everything (several minutes on 2 cores)
    python examples/run_all.py --only demo char_lm  # rerun two, keep the stored results of the others
    python examples/run_all.py --table-only         # rewrite the README table from the stored results
"""

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EXAMPLES = ["one_to_one_digits", "many_to_one_digits", "one_to_many_captioning", "seq2seq_dates", "char_lm",
            "bidirectional_tagging", "vanishing_gradients", "demo"]
IDEAS = {
    "one_to_one_digits": "one-to-one: an MLP on all 64 pixels, the reference point",
    "many_to_one_digits": "many-to-one: an LSTM reads the digit row by row, classifies from h_n",
    "one_to_many_captioning": "one-to-many: the image as h_0, an LSTM spells the digit's name",
    "seq2seq_dates": "seq2seq, human dates to ISO: attention vs a context vector; teacher forcing vs free running",
    "char_lm": "language model on stdlib source: truncated BPTT, state carried or reset (train x evaluate)",
    "bidirectional_tagging": "bidirectional LSTM tags characters with tokenize's token types",
    "vanishing_gradients": "‖∂L/∂h_t‖ over 100 steps, exploding gradients and clipping, the adding problem",
    "demo": "the quick start: a short char LM, sampled text, the unrolled graph with gradient flow",
}
BEGIN, END = "<!-- results table: written by examples/run_all.py -->", "<!-- end of results table -->"
GALLERY = {"vanishing_gradients": ["vanishing_heatmap.png"], "seq2seq_dates": ["seq2seq_dates.png"],
           "demo": ["demo_lstm.svg"]}


def run_one(name, out, python):
    """Run examples/NAME.py at its defaults; returns its stored result (metrics, claims, times)."""
    os.makedirs(os.path.join(out, "results"), exist_ok=True)
    path = os.path.join(out, "results", f"{name}.json")
    log = os.path.join(out, f"{name}.log")
    cmd = [python, os.path.join(HERE, f"{name}.py"), "--out", os.path.join(out, name), "--json", path + ".tmp"]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT] + os.environ.get("PYTHONPATH", "").split(os.pathsep)))
    before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    with open(log, "w") as f:
        proc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, env=env, check=False)
    wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"run_all: {name} failed with exit code {proc.returncode}; see {log}")
    with open(path + ".tmp") as f:
        result = json.load(f)
    os.remove(path + ".tmp")
    result = {"metrics": result, "claims": result.pop("claims", []), "wall_s": wall,
              "cpu_s": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
              "load_before": os.getloadavg()[0], "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
    for picture in GALLERY.get(name, ()):  # the figures the README's gallery shows, from this very run
        src = os.path.join(out, name, picture)
        if os.path.isfile(src):
            shutil.copyfile(src, os.path.join(ROOT, "docs", "gallery", picture))
    print(f"{name}: {wall:.0f} s wall, {result['cpu_s']:.0f} s CPU; "
          + "; ".join(f"{c['claim']}: {c['measured']} ({c['verdict']})" for c in result["claims"]), flush=True)
    return result


def table(out):
    """The README's results table (markdown) from the stored results."""
    lines = ["| script | idea | claim | measured | margin (needed) | verdict | time: wall (CPU) |",
             "|---|---|---|---|---|---|---|"]
    stamps, loads = [], []
    for name in EXAMPLES:
        path = os.path.join(out, "results", f"{name}.json")
        if not os.path.isfile(path):
            lines.append(f"| `{name}.py` | {IDEAS[name]} | (not run yet) | | | | |")
            continue
        with open(path) as f:
            r = json.load(f)
        stamps.append(r["when"])
        loads.append(r.get("load_before", 0.0))
        for i, c in enumerate(r["claims"] or [{"claim": "", "measured": "", "margin": 0, "need": None,
                                                "verdict": "", "spread": ""}]):
            measured = c["measured"] + (f" (seeds: {c['spread']})" if c.get("spread") else "")
            need = "" if c["need"] is None else f" ({c['need']:+.3g})"
            script, idea, took = (f"`{name}.py`", IDEAS[name], f"{r['wall_s']:.0f} s ({r['cpu_s']:.0f} s)") if i == 0 \
                else ("", "", "")
            text = c["claim"].replace("||", "‖").replace("|", "/")  # a bare | would split the markdown cell
            lines.append(f"| {script} | {idea} | {text} | {measured} | "
                         f"{c['margin']:+.3g}{need} | {c['verdict']} | {took} |")
    when = f"{min(stamps)} to {max(stamps)}" if stamps else "never"
    lines.append("")
    lines.append(f"Generated by `python examples/run_all.py` ({when}; {os.cpu_count()} CPU cores, "
                 f"{platform.python_implementation()} {platform.python_version()}, default arguments, one "
                 f"example at a time; load average {min(loads, default=0):.1f}-{max(loads, default=0):.1f} when "
                 "they started: wall time above CPU time means the cores were shared). \"within noise\" and "
                 "\"... ahead\" rows are comparisons the example prints without claiming them.")
    return "\n".join(lines)


def write_readme(out, readme):
    with open(readme) as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"run_all: {readme} has no results markers ({BEGIN} ... {END})")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(readme, "w") as f:
        f.write(head + BEGIN + "\n" + table(out) + "\n" + END + tail)
    print(f"wrote the results table into {readme}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--only", nargs="+", choices=EXAMPLES, metavar="NAME", default=EXAMPLES,
                   help="run only these examples")
    p.add_argument("--table-only", action="store_true", help="run nothing; rebuild the table from stored results")
    p.add_argument("--out", default=os.path.join(HERE, "out", "run_all"), help="logs, outputs and stored results")
    p.add_argument("--readme", default=os.path.join(ROOT, "README.md"), help="the file whose table is rewritten")
    p.add_argument("--python", default=sys.executable, help="the interpreter that runs the examples")
    args = p.parse_args(argv)
    if not args.table_only:
        for name in args.only:
            run_one(name, args.out, args.python)
    write_readme(args.out, args.readme)


if __name__ == "__main__":
    main()
