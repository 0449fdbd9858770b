"""Run every benchmark module in bench/ (or the ones named): ``python -m bench [geo …]``."""

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> None:
    """Import each benchmark module and call its main()."""
    modules = pkgutil.iter_modules([str(Path(__file__).parent)])
    names = sys.argv[1:] or sorted(m.name for m in modules if not m.name.startswith("_"))  # _x: helpers
    for name in names:
        print(f"== bench/{name}")
        importlib.import_module(f"bench.{name}").main()


if __name__ == "__main__":
    main()
