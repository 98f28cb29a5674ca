"""`python -m services` is the `medoffice` command."""

from services.cli import main

main()
