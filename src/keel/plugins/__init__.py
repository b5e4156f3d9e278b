"""Plugin system: pluggy hookspecs and the registries they fill."""
