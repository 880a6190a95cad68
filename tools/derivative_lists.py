"""Rebuild the schedule's 2025 steel and aluminum derivative lists from the official HTS export.

The 2025 Section 232 lists (U.S. notes 16 and 19 to subchapter III of chapter 99) are not printed
in the exports, but every tariff line they cover carries the footnote "See U.S. note 16 to
subchapter III, chapter 99" (steel) or "... note 19 ..." (aluminum). This script reads those
footnotes in the revision that put the 2025-03-12 lists in force (2025 Revision 5), takes out the
articles (the schedule's steel-articles and aluminum-articles lists), sorts the derivatives by
the heading their duty is reported under, adds the 2025-08-18 inclusions of the fact base's
`steel-aluminum-derivatives.csv`, and rewrites the four derivative lists of `tariffs.yaml`
between their markers:

- steel-derivatives (chapter 73; 9903.81.89/.90: full value until 2025-06-03),
- steel-derivatives-other (outside chapter 73; 9903.81.91: the steel content),
- aluminum-derivatives (chapter 76 and the 2020 derivatives of 9903.85.04: full value until
  2025-06-03), aluminum-derivatives-other (outside chapter 76; 9903.85.08: the aluminum content).

    python tools/derivative_lists.py [--exports ../shared/reference/hts] [--check]

--check rewrites nothing and exits 1 when the schedule's lists differ from what the exports give.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCHEDULE = ROOT / "tariffs.yaml"
REFERENCE = ROOT.parent / "shared" / "reference"
REVISION = "hts_2025_rev_5.json.gz"  # 2025-03-12: the derivative lists restored and extended
NOTES = {"steel": "note 16 to subchapter III", "aluminum": "note 19 to subchapter III"}
# Articles (not derivatives): the schedule's own lists, as the exports do not tell them apart.
ARTICLES = {"steel": "steel-articles", "aluminum": "aluminum-articles"}
BEGIN, END = "# >>> derivative lists (tools/derivative_lists.py)", "# <<< derivative lists"


def footnoted_lines(export: Path) -> dict[str, list[str]]:
    """The tariff lines of an export whose footnotes cite note 16 / note 19, as provisions:
    a 10-digit row ending in 00 that is itself the tariff line (no 8-digit row) becomes the
    8-digit line, so that a shipment entered at 8 digits finds it."""
    records = json.loads(gzip.open(export).read())
    numbers = {str(r.get("htsno") or "").replace(".", "") for r in records}
    found: dict[str, list[str]] = {metal: [] for metal in NOTES}
    for record in records:
        digits = str(record.get("htsno") or "").replace(".", "")
        if not digits or digits[:2] in ("98", "99"):
            continue
        text = " ".join(str(f.get("value", "")) for f in record.get("footnotes") or [])
        text = re.sub(r"\s+", " ", text)
        for metal, note in NOTES.items():
            if note in text:
                if len(digits) == 10 and digits.endswith("00") and digits[:8] not in numbers:
                    digits = digits[:8]
                found[metal].append(digits)
    return {metal: sorted(set(codes)) for metal, codes in found.items()}


def schedule_list(text: str, name: str) -> list[str]:
    """The provisions (digits) of one list of the schedule (read without the validating models)."""
    import yaml

    data = yaml.safe_load(text)
    entries = data["lists"][name]["provisions"]
    return [str(e["code"] if isinstance(e, dict) else e).replace(".", "") for e in entries]


def dotted(digits: str) -> str:
    return ".".join([digits[:4]] + [digits[i : i + 2] for i in range(4, len(digits), 2)])


def build(exports: Path, csv_path: Path, text: str) -> str:
    lines = footnoted_lines(exports / REVISION)
    inclusions: dict[str, list[tuple[str, str, str]]] = {"steel": [], "aluminum": []}
    with csv_path.open(encoding="utf-8") as stream:
        for row in csv.DictReader(stream):
            inclusions[row["derivative_type"]].append(
                (row["hts_prefix"], row["ch99_code"], row["effective_date"])
            )
    lists: dict[str, list[tuple[str, str | None, str | None]]] = {
        "steel-derivatives": [], "steel-derivatives-other": [],
        "aluminum-derivatives": [], "aluminum-derivatives-other": [],
    }  # fmt: skip
    for metal, chapter in (("steel", "73"), ("aluminum", "76")):
        articles = schedule_list(text, ARTICLES[metal])
        csv_heading = {code: heading for code, heading, _ in inclusions[metal]}
        seen: set[str] = set()
        for code in lines[metal]:
            if any(code.startswith(a) for a in articles):
                continue  # an article, not a derivative
            seen.add(code)
            heading = csv_heading.get(code)
            full_value = code.startswith(chapter) or heading in ("9903.85.04", "9903.85.07")
            name = f"{metal}-derivatives" + ("" if full_value else "-other")
            lists[name].append((code, heading if heading == "9903.85.04" else None, None))
        for code, heading, since in inclusions[metal]:
            if code in seen or any(code.startswith(a) for a in articles):
                continue
            if since:
                name = f"{metal}-derivatives-other"
                if code.startswith(chapter):
                    name = f"{metal}-derivatives"
                lists[name].append((code, None, since))
                seen.add(code)
            else:
                print(f"not footnoted in {REVISION}, left out: {code} ({heading})", file=sys.stderr)
    out = [BEGIN]
    titles = {
        "steel-derivatives": (
            "Derivative steel articles of chapter 73 (9903.81.89/.90; full value until 2025-06-03)",
            "9903.81.90",
        ),
        "steel-derivatives-other": (
            "Derivative steel articles outside chapter 73 (9903.81.91; the steel content)",
            "9903.81.91",
        ),
        "aluminum-derivatives": (
            "Derivative aluminum articles of chapter 76 and of 9903.85.04 (full value until "
            "2025-06-03)",
            "9903.85.07",
        ),
        "aluminum-derivatives-other": (
            "Derivative aluminum articles outside chapter 76 (9903.85.08; the aluminum content)",
            "9903.85.08",
        ),
    }
    for name, entries in lists.items():
        title, _ = titles[name]
        metal = name.split("-")[0]
        note = "16" if metal == "steel" else "19"
        out += [
            f"  {name}:",
            f"    title: \"{title}\"",
            f"    source: lines footnoted 'See U.S. note {note} to subchapter III, chapter 99' in "
            f"the official HTS export, {REVISION.removesuffix('.json.gz')} (2025-03-12), less "
            f"the {ARTICLES[metal]} list; 2025-08-18 inclusions from reference "
            "steel-aluminum-derivatives.csv; generated by tools/derivative_lists.py",
            "    provisions:",
        ]
        for code, heading, since in sorted(entries):
            fields = [f'code: "{dotted(code)}"']
            if heading:
                fields.append(f'heading: "{heading}"')
            if since:
                fields.append(f"from: {since}")
            out.append(f"      - {{{', '.join(fields)}}}" if len(fields) > 1 else
                       f'      - "{dotted(code)}"')
    out.append(END)
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exports", type=Path, default=REFERENCE / "hts")
    parser.add_argument("--csv", type=Path, default=REFERENCE / "steel-aluminum-derivatives.csv")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    text = SCHEDULE.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END)
    block = build(args.exports, args.csv, text)
    current = text[start : text.index("\n", end) + 1]
    if args.check:
        same = current == block
        print("the derivative lists match the exports" if same else "the lists differ")
        return 0 if same else 1
    SCHEDULE.write_text(text[:start] + block + text[text.index("\n", end) + 1 :], encoding="utf-8")
    print(f"{SCHEDULE}: derivative lists rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
