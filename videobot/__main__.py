import sys

from videobot.cli import main

sys.exit(main())
