"""Mechanical checks (scorers run on both outputs of every pair) and the go/no-go checklist."""
