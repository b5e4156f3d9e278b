"""Provider kinds, one module each, registered through `register_providers` like any plugin's."""
