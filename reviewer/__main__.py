"""`python -m reviewer` runs the `signoff` command."""

from reviewer.cli import main

main()
