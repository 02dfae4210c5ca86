"""Run every import's Excel reading on one file in a fresh process and report its peak memory.

`python -m tests.xlsx_parse_child FILE` prints JSON: for each import the messages it refused the
file with (or the number of rows read), and the process's peak resident memory in MB. The
spreadsheet-bomb tests run it in a subprocess so that a reader that aborts or balloons shows as
a dead child or a figure, not as a dead test run.
"""

from __future__ import annotations

import io
import json
import os
import resource
import sys


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM rather than getrusage: Linux carries the
    parent's peak across fork and exec into ru_maxrss, so a child of a big pytest would report
    the parent's figure."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(path: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cpd.settings")
    import django

    django.setup()
    from django.core.exceptions import ValidationError
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts.roster_import import read_rows
    from cpd.xlsx import check_upload, iter_rows
    from points import imports as points_imports
    from training import imports as hours_imports

    def hours_reader(headers, required):
        return lambda data: list(
            iter_rows(io.BytesIO(data), headers=headers, required_headers=required, max_rows=hours_imports.MAX_ROWS)
        )

    readers = {
        "roster": lambda data: read_rows(io.BytesIO(data)),
        "registration": hours_reader(hours_imports.REGISTRATION_HEADERS, hours_imports.REGISTRATION_REQUIRED),
        "provincial": hours_reader(hours_imports.PROVINCIAL_HEADERS, hours_imports.PROVINCIAL_REQUIRED),
        "points": lambda data: points_imports._parse(data)[0],
    }
    with open(path, "rb") as fh:
        data = fh.read()
    report: dict = {"upload": None, "readers": {}}
    try:  # what the web request checks before it stores the file
        check_upload(SimpleUploadedFile("x.xlsx", data), max_bytes=10 * 1024 * 1024, max_rows=100_000)
    except ValidationError as exc:
        report["upload"] = exc.messages
    for name, read in readers.items():  # what the worker (or the eager dry run) reads
        try:
            report["readers"][name] = f"{len(read(data))} rows"
        except ValidationError as exc:
            report["readers"][name] = exc.messages
    report["max_rss_mb"] = peak_rss_mb()
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1])
