"""The scheduling core: pure functions over values. No database, network or clock."""
