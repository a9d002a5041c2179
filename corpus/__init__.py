"""The bundled corpus of procedure pages: the default when a user names no corpus or index."""

from pathlib import Path

CORPUS_DIR = Path(__file__).resolve().parent


def corpus_dir() -> Path:
    """Where the bundled pages are, whether installed as a package or run from a checkout."""
    return CORPUS_DIR
