"""``python -m people_events_client``: the ``people-events`` command."""

import sys

from .cli import main

sys.exit(main())
