"""`signoff generate`: a golden set through the candidate and baseline models, into pairs files."""
