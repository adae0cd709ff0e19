"""Stage commands. Each module lists its click commands in ``COMMANDS``."""
