"""A study's life: import, annotators, assignment, status and the demo."""
