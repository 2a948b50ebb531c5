import os
import sys

# ``python -m dbcheck`` puts the working directory first on the import path: in a checked
# tree, its ``pathspec.py`` would stand in for the library dbcheck imports lazily. The
# folder is kept only when dbcheck itself is imported from it (a clone of dbcheck).
_HOME = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_CWD = os.path.abspath(os.curdir)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _CWD or _CWD == _HOME]

from dbcheck.cli import main  # noqa: E402

raise SystemExit(main())
