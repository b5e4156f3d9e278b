"""Projects and their API keys: the unit of isolation every other feature's data hangs from."""
