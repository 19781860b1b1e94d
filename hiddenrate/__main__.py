"""``python -m hiddenrate`` runs the command-line interface."""

from hiddenrate.cli import main

if __name__ == "__main__":
    main()
