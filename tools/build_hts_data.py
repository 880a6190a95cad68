"""Build tariffcalc's packaged HTS data from the official USITC JSON exports.

Rerun it when a newer export is available:

    python tools/build_hts_data.py                      # the packaged data, from revisions.csv
    python tools/build_hts_data.py --extra hts_2026_rev_11.json.gz 2026-06-20
    python tools/build_hts_data.py --out ~/.local/share/tariffcalc/hts --append \\
        --extra hts_2026_rev_11.json.gz 2026-06-20       # a user's folder ($TARIFFCALC_HTS_DATA)

The exports folder (``--exports``, else ``$TARIFFCALC_HTS_EXPORTS``, else
``../shared/reference/hts`` beside the repository) holds ``revisions.csv`` (revision, file,
published, policy_effective; rows whose file is "(not shipped ...)" are skipped) and
``SHA256SUMS``, which every export read must match. The format and the folding live in
:mod:`tariffcalc.htsdata`, which also reads them.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import sys
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from tariffcalc.hts_export import ExportFile, read_export, revision_name, write_folder  # noqa: E402
from tariffcalc.htsdata import PACKAGED_FOLDER, HTSDataError, parse_rate  # noqa: E402

EXPORTS_ENV = "TARIFFCALC_HTS_EXPORTS"
DEFAULT_EXPORTS = REPO.parent / "shared" / "reference" / "hts"
BUILT_BY = "tools/build_hts_data.py"


def listed_exports(folder: Path) -> list[ExportFile]:
    """The shipped revisions of ``revisions.csv``, in its order, checked against SHA256SUMS."""
    sums = _checksums(folder / "SHA256SUMS")
    exports: list[ExportFile] = []
    with (folder / "revisions.csv").open(encoding="utf-8", newline="") as stream:
        for row in csv.DictReader(stream):
            file_name = (row.get("file") or "").strip()
            if not file_name or file_name.startswith("("):
                continue  # "(not shipped: ...)"
            path = folder / file_name
            expected = sums.get(file_name)
            if expected is not None and _sha256(path) != expected:
                raise HTSDataError(f"{path}: its checksum differs from SHA256SUMS")
            published = date.fromisoformat(row["published"].strip())
            effective_text = (row.get("policy_effective") or "").strip()
            effective = date.fromisoformat(effective_text) if effective_text else published
            exports.append(ExportFile(path, row["revision"].strip(), effective, published))
    return exports


def _checksums(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    sums: dict[str, str] = {}
    for text in path.read_text(encoding="utf-8").splitlines():
        if text.strip():
            checksum, name = text.split(maxsplit=1)
            sums[name.lstrip("*").strip()] = checksum.lower()
    return sums


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def unread_rates(exports: list[ExportFile]) -> dict[str, set[str]]:
    """Column 1 general texts that are not a plain rate, with the numbers that carry them
    (outside chapters 98 and 99, where the texts are formulas by design)."""
    found: dict[str, set[str]] = {}
    for export in exports:
        for record in read_export(export.path):
            number = str(record.get("htsno") or "").strip()
            general = str(record.get("general") or "").strip()
            if number and general and number[:2] not in ("98", "99"):
                if parse_rate(general) is None:
                    found.setdefault(general, set()).add(number)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exports", type=Path, help="folder with revisions.csv and the exports")
    parser.add_argument(
        "--extra",
        nargs=2,
        action="append",
        default=[],
        metavar=("EXPORT", "EFFECTIVE"),
        help="another export file and the date (YYYY-MM-DD) from which it applies to entries",
    )
    parser.add_argument("--out", type=Path, default=PACKAGED_FOLDER, help="data folder to write")
    parser.add_argument(
        "--append",
        action="store_true",
        help="keep the folder's revisions and add the --extra exports after them "
        "(revisions.csv is not read)",
    )
    parser.add_argument(
        "--report-rates", action="store_true", help="list the rates that are not understood"
    )
    args = parser.parse_args(argv)

    try:
        exports: list[ExportFile] = []
        if not args.append:
            folder = args.exports or Path(os.environ.get(EXPORTS_ENV) or DEFAULT_EXPORTS)
            exports = listed_exports(folder)
        for file_name, effective in args.extra:
            path = Path(file_name)
            exports.append(ExportFile(path, revision_name(path), date.fromisoformat(effective)))
        if not exports:
            parser.error("nothing to add: name exports with --extra EXPORT EFFECTIVE")
        summary = write_folder(args.out, exports, append=args.append, built_by=BUILT_BY)
    except (HTSDataError, OSError, ValueError, KeyError) as exc:
        print(f"build_hts_data: {exc}", file=sys.stderr)
        return 1

    size = sum(path.stat().st_size for path in args.out.iterdir() if path.is_file())
    print(f"{args.out}: {', '.join(f'{v:,} {k}' for k, v in summary.counts.items())}")
    print(f"  added {len(summary.added)} revision(s), {size / 1e6:.2f} MB on disk", end="")
    print(f"; skipped (already there): {', '.join(summary.skipped)}" if summary.skipped else "")
    for warning in summary.warnings:
        print(f"  warning: {warning}")
    if args.report_rates:
        unread = unread_rates(exports)
        numbers = set().union(*unread.values()) if unread else set()
        print(f"  {len(unread)} general texts on {len(numbers)} numbers are not a plain rate:")
        for text, codes in sorted(unread.items()):
            print(f"    {text!r}: {', '.join(sorted(codes)[:3])}{' ...' * (len(codes) > 3)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
