"""``python -m analyzer`` runs the pgv command line."""

from analyzer.cli import main

main()
