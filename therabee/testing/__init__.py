"""Test doubles shared by the test suite and the benchmark (e.g. the fake Zoom server)."""
