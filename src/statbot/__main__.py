"""``python -m statbot`` — the same CLI as the ``statbot`` console script."""

from statbot.cli import main

main()
