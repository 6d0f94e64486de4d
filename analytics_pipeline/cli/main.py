"""The ``analytics`` command: one entry point for operators."""

from __future__ import annotations

import typer

from analytics_pipeline.cli import (
    archive_cmd,
    demo_cmd,
    dlq_cmd,
    exporter_cmd,
    generate_cmd,
    index_cmd,
    lakehouse_cmd,
    project_cmd,
    replay_cmd,
    schema_cmd,
    serve_cmd,
    stack_cmd,
    status_cmd,
    stream_cmd,
    topics_cmd,
)

app = typer.Typer(
    help="Self-hosted product-analytics pipeline: stack, projects, keys, schemas, load.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(stack_cmd.app, name="stack")
app.add_typer(project_cmd.project_app, name="project")
app.add_typer(project_cmd.key_app, name="key")
app.add_typer(schema_cmd.app, name="schema")
app.add_typer(topics_cmd.app, name="topics")
app.add_typer(serve_cmd.app, name="serve")
app.add_typer(lakehouse_cmd.app, name="lakehouse")
app.add_typer(archive_cmd.app, name="archive")
app.add_typer(dlq_cmd.app, name="dlq")
app.command("generate")(generate_cmd.generate)
app.command("demo")(demo_cmd.demo)
app.command("status")(status_cmd.status)
app.command("replay")(replay_cmd.replay)
app.command("stream-worker")(stream_cmd.stream_worker)
app.command("metadata-indexer")(index_cmd.metadata_indexer)
app.command("exporter")(exporter_cmd.exporter)

if __name__ == "__main__":
    app()
