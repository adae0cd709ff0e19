"""dlcompute: how much computing deep learning spends for each step of progress."""

__version__ = "0.1.0"
