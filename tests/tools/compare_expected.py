#!/usr/bin/env python3
"""Prints how far edgelm's logits are from llama.cpp's and from the float64
reference for every expected file, teacher-forced along llama.cpp's path.

Usage: python3 tests/tools/compare_expected.py [build/edgelm] [fixtures dir]
"""
import glob
import json
import os
import subprocess
import sys

binary = sys.argv[1] if len(sys.argv) > 1 else "build/edgelm"
fixtures = sys.argv[2] if len(sys.argv) > 2 else "../shared/fixtures"
extra_dir = os.path.join(os.path.dirname(__file__), "..", "data")

print("| expected file | positions | max abs diff vs llama.cpp (top 4) | top-1 disagreements (near-ties) | max abs diff vs float64 |")
print("|---|---|---|---|---|")
for path in sorted(glob.glob(os.path.join(fixtures, "expected", "*.json"))):
    name = os.path.basename(path)[:-5]
    expected = json.load(open(path))
    ids = expected["prompt_ids"] + expected["greedy"][:-1]
    model = os.path.join(fixtures, expected["model"])
    run = subprocess.run([binary, "--log-level", "off", "logits", "-m", model, "--prompt-ids",
                          ",".join(map(str, ids)), "--top", "64", "-c", "2048"],
                         capture_output=True, text=True)
    if run.returncode != 0:
        message = run.stderr.strip().splitlines()[-1].removeprefix("error: ")
        print(f"| {name} | not run: {message} | | | |")
        continue
    rows = [dict((t, v) for t, v in json.loads(line)["top"]) for line in run.stdout.splitlines()]

    n_prompt = len(expected["prompt_ids"])
    max_diff = 0.0
    disagreements = 0
    near_ties = 0
    for i, row in enumerate(rows):
        ref = expected["prompt_top"][i] if i < n_prompt else expected["greedy_top"][i - n_prompt + 1]
        for token, value in ref[:4]:
            if token in row:
                max_diff = max(max_diff, abs(row[token] - value))
        top1 = max(row, key=row.get)
        if top1 != ref[0][0]:
            disagreements += 1
            near_ties += ref[0][1] - ref[1][1] < 0.05

    exact = expected.get("exact_path_top")
    extra = os.path.join(extra_dir, name + ".float64.json")
    if exact is None and os.path.exists(extra):
        exact = json.load(open(extra))["exact_path_top"]
    exact_diff = "—"
    if exact is not None:
        exact_diff = "%.2e" % max(abs(rows[i][t] - v) for i, r in enumerate(exact) for t, v in r if t in rows[i])
    print(f"| {name} | {len(rows)} | {max_diff:.2e} | {disagreements} ({near_ties}) | {exact_diff} |")
