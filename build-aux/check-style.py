#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""check-style.py - the conventions of CONTRIBUTING.md a machine can check.

Usage: check-style.py [FILE.c|FILE.h ...]   (default: every C file git tracks)

For each C file:
  header     the file opens with a comment whose first line (after an SPDX
             line, if any) is "NAME - what it is for", NAME the file's name
             (or a path ending in it: "smtpreply/reply.h");
  deftype    a function's return type stands on the line of its name
             ("static int foo(void)", never "static int\\nfoo(void)");
  defalign   the continuation lines of a function's parameter list (in a
             definition or a prototype) start under the character after
             its opening parenthesis (tabs of 8, then spaces).

Prints one line "FILE:LINE: rule: what" per problem, then "N files, N
problems"; exits 1 when there is a problem. Python 3 standard library only.
"""

import os
import re
import subprocess
import sys

# A line at column 0 that names a function with its parameter list open:
# "static int foo(", "const char *sr_phase_name(", "int main(".
DECL_START = re.compile(r"^(?!typedef\b|#|return\b|if\b|for\b|while\b|switch\b)"
                        r"[A-Za-z_][\w \t*]*?\b([A-Za-z_]\w*)\(")
# A name at column 0 followed by "(": the second half of a split definition.
NAME_AT_COL0 = re.compile(r"^([A-Za-z_]\w*)\(")
# What a return type on a line of its own looks like.
TYPE_LINE = re.compile(r"^(static\s+|extern\s+|inline\s+|const\s+|unsigned\s+|signed\s+|"
                       r"struct\s+|enum\s+|union\s+)*[A-Za-z_]\w*[\s*]*$")
NOT_A_TYPE = {"else", "return", "do", "case", "default", "goto", "break", "continue"}


def width(text):
    """Display column after TEXT, tabs of 8."""
    col = 0
    for ch in text:
        col = (col // 8 + 1) * 8 if ch == "\t" else col + 1
    return col


def strip_literals(line):
    """LINE with string and character literals and // comments blanked, so
    that a parenthesis inside them does not count."""
    out, i, n = [], 0, len(line)
    while i < n:
        ch = line[i]
        if ch in "\"'":
            q = ch
            out.append(" ")
            i += 1
            while i < n and line[i] != q:
                if line[i] == "\\":
                    out.append(" ")
                    i += 1
                out.append(" ")
                i += 1
            out.append(" ")
            i += 1
        elif line.startswith("//", i) or line.startswith("/*", i):
            break
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def check_header(path, lines, problems):
    name = os.path.basename(path)
    head = [ln for ln in lines[:6] if "SPDX-License-Identifier" not in ln]
    if not lines or not lines[0].startswith("/*"):
        problems.append((path, 1, "header", "the file does not open with a comment"))
        return
    for ln in head[:3]:
        m = re.match(r"^(?:/\*| \*)\s+(\S+) - \S", ln)
        if m:
            if m.group(1) != name and not m.group(1).endswith("/" + name):
                problems.append((path, 1, "header", "the comment names %s, not %s"
                                 % (m.group(1), name)))
            return
    problems.append((path, 1, "header", 'no "%s - what it is for" line' % name))


def check_definitions(path, lines, problems):
    in_comment = False
    i = 0
    while i < len(lines):
        line = lines[i]
        # Skip block comments and preprocessor lines (with continuations).
        if in_comment:
            if "*/" in line:
                in_comment = False
            i += 1
            continue
        if line.lstrip().startswith("/*") and "*/" not in line:
            in_comment = True
            i += 1
            continue
        if line.startswith("#"):
            while line.endswith("\\") and i + 1 < len(lines):
                i += 1
                line = lines[i]
            i += 1
            continue
        m = NAME_AT_COL0.match(line)
        if m and i > 0:
            prev = lines[i - 1].rstrip()
            if (prev and TYPE_LINE.match(prev) and prev.split()[-1] not in NOT_A_TYPE
                    and not prev.startswith("#")):
                problems.append((path, i + 1, "deftype",
                                 "the return type of %s() is on the line before; "
                                 "write it on the line of the name" % m.group(1)))
        if DECL_START.match(line):
            # Follow the parameter list while its parenthesis is open.
            text = strip_literals(line)
            stack = []
            j = i
            while True:
                for k, ch in enumerate(text):
                    if ch == "(":
                        stack.append(width(lines[j][:k]) + 1)
                    elif ch == ")" and stack:
                        stack.pop()
                if not stack or j + 1 >= len(lines):
                    break
                j += 1
                nxt = lines[j]
                if nxt.strip():
                    indent = width(re.match(r"^[ \t]*", nxt).group(0))
                    if indent != stack[-1]:
                        problems.append((path, j + 1, "defalign",
                                         "a parameter list continues at column %d, "
                                         "not under its parenthesis (column %d)"
                                         % (indent, stack[-1])))
                text = strip_literals(nxt)
            i = j + 1
            continue
        i += 1


def tracked_c_files():
    out = subprocess.run(["git", "ls-files", "*.c", "*.h"], capture_output=True,
                         text=True, check=True).stdout
    return [f for f in out.split() if os.path.isfile(f)]


def main(argv):
    files = argv[1:] or tracked_c_files()
    problems = []
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().split("\n")
        check_header(path, lines, problems)
        check_definitions(path, lines, problems)
    for path, line, rule, what in problems:
        print("%s:%d: %s: %s" % (path, line, rule, what))
    print("%d files, %d problems" % (len(files), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
