"""The archive of a project as a table, for the CLI and the demo."""

from __future__ import annotations

from rich.table import Table

from analytics_pipeline.archive.summary import ProjectArchive


def archive_table(archive: ProjectArchive) -> Table:
    table = Table(
        "partition",
        "objects",
        "offsets",
        "records",
        "bytes",
        "bytes/record",
        title=f"s3://{archive.bucket}/archive/{archive.project}/",
    )
    for p in archive.partitions:
        gaps = f" ({p.gaps:,} not archived)" if p.gaps else ""
        table.add_row(
            str(p.partition),
            f"{p.objects:,}",
            f"{p.first_offset:,}..{p.last_offset:,}{gaps}",
            f"{p.records:,}",
            f"{p.bytes:,}",
            f"{p.bytes / p.records:.1f}" if p.records else "",
        )
    table.add_section()
    per_record = f"{archive.bytes / archive.records:.1f}" if archive.records else ""
    table.add_row("all", f"{archive.objects:,}", "", f"{archive.records:,}", f"{archive.bytes:,}", per_record)
    return table
