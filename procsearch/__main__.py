"""``python -m procsearch``: the same command as ``procsearch``."""

from procsearch.search.cli import main

if __name__ == "__main__":
    main()
