#!/usr/bin/env python3
"""Builds Sources/ItalianIdentity/Resources/belfiore.tsv from ../shared/data/belfiore/ (python-codicefiscale 0.12.1, MIT).

One line a validity interval: CODE<TAB>NAME<TAB>PROVINCE<TAB>FROM<TAB>TO (ISO dates, TO empty while valid).
Consecutive intervals with the same name and province are merged, which keeps the table small.
Run again when the upstream tables change: python3 scripts/build-belfiore.py [SOURCE_DIR]
"""
import json
import pathlib
import sys
from datetime import date, timedelta

src = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parents[1].parent / "shared/data/belfiore")
out = pathlib.Path(__file__).resolve().parents[1] / "Sources/ItalianIdentity/Resources/belfiore.tsv"

records = {}
for name, is_country in [("municipalities.json", False), ("countries.json", True), ("deleted-countries.json", True),
                         ("municipalities-patch.json", False), ("countries-patch.json", True)]:
    for r in json.loads((src / name).read_text(encoding="utf-8")):
        code = r["code"].strip().upper()
        if len(code) != 4:
            continue
        start = r["date_created"][:10]
        province = r.get("province") or ("EE" if is_country else "")
        records[(code, start)] = [code, " ".join(r["name"].split()), province, start, (r["date_deleted"] or "")[:10]]

merged = []
for row in sorted(records.values()):
    last = merged[-1] if merged else None
    if last and last[0] == row[0] and last[1] == row[1] and last[2] == row[2] and last[4]:
        next_day = (date.fromisoformat(last[4]) + timedelta(days=1)).isoformat()
        if next_day >= row[3]:
            last[4] = row[4]
            continue
    merged.append(row)

with out.open("w", encoding="utf-8") as f:
    f.write("# Belfiore codes: code, name, province, valid from, valid to. Built by scripts/build-belfiore.py from\n")
    f.write("# python-codicefiscale 0.12.1 data (MIT, (c) Fabio Caccamo; source ANPR). Do not edit by hand.\n")
    for row in merged:
        f.write("\t".join(row) + "\n")
print(f"{len(records)} records -> {len(merged)} intervals -> {out}")
