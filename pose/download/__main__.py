import sys

from pose.download.cli import main

sys.exit(main())
