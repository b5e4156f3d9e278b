"""The `keel` command line: a root Typer app that features extend through `register_commands`."""
