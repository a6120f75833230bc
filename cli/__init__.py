# The `syncstore` command line, a face over the core (console script `syncstore = "cli.main:main"`).
"""`syncstore ...` commands: `cli.main` holds the Typer app and the entry point; `python -m cli.main` runs it."""
