"""The web UI: server-rendered pages over the feature services, with a little of our own JavaScript."""
