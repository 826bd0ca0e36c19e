"""`python -m cli <command>`: the `phoneunify` command without its console script."""

from cli.main import main

raise SystemExit(main())
