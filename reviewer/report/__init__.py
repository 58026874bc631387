"""The sign-off report: its data model, how it is built, the verdict rule, how it is rendered."""
