"""Files in: pairs, and labels and verdicts made elsewhere, each validated whole first."""
