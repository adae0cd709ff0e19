"""The review web app for annotators: ``create_app(db_path, data_dir)`` and ``serve``."""

from curate.review.app import create_app, serve

__all__ = ["create_app", "serve"]
