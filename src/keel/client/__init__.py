"""HTTP client shared by the SDK (`keel.Client`) and the CLI."""
