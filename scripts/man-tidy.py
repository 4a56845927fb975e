#!/usr/bin/env python3
"""Tidies a page made by argument-parser's generate-manual for man and lintian.

generate-manual copies discussion text as it is: a blank line between paragraphs, which groff
warns about, becomes .Pp; indented example lines, which would be filled into the paragraph
around them, become a literal display. A command without subcommands loses the `subcommand`
argument the synopsis gives it.

Usage: scripts/man-tidy.py PAGE [--no-subcommands]
"""
import sys


def tidy(lines, subcommands):
    out = []
    literal = False
    for line in lines:
        example = line.startswith("  ") and not line.startswith(".")
        if literal and not example:
            out.append(".Ed")
            literal = False
        if example:
            if not literal:
                out.append(".Bd -literal -offset indent")
                literal = True
            out.append(line[2:].replace("\\", "\\e"))
        elif line.strip() == "":
            out.append(".Pp")
        elif not subcommands and line == ".Ar subcommand":
            continue
        else:
            out.append(line)
    if literal:
        out.append(".Ed")
    # .Pp right before a display or a list is redundant.
    return [line for i, line in enumerate(out)
            if not (line == ".Pp" and i + 1 < len(out) and out[i + 1].startswith((".Bd", ".Bl", ".Sh", ".Pp")))]


def main():
    path = sys.argv[1]
    subcommands = "--no-subcommands" not in sys.argv[2:]
    with open(path, encoding="utf-8") as page:
        lines = page.read().split("\n")
    text = "\n".join(tidy(lines, subcommands))
    with open(path, "w", encoding="utf-8") as page:
        page.write(text)


if __name__ == "__main__":
    main()
