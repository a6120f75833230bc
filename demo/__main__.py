# `python -m demo`: what `make demo` and `syncstore demo run` start.
"""Run the whole SyncStore system locally until Ctrl-C (see demo/supervisor.py for what starts)."""

from __future__ import annotations

import argparse
import sys

from demo.config import ALL_PARTS, DemoConfig, Part, Ports, listens
from demo.supervisor import Supervisor


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="syncstore demo run", description=__doc__)
    parser.add_argument(
        "--without",
        action="append",
        default=[],
        choices=[part.value for part in Part],
        help="Do not start this part (repeatable), e.g. --without streamlit",
    )
    parser.add_argument(
        "--orders-every", type=float, default=15.0, help="Random buyers on each marketplace every N seconds (0: none)"
    )
    parser.add_argument("--conflicting-edits", type=int, default=3, help="Seller title edits made after the first sync")
    defaults = Ports()
    serving = [part for part in Part if listens(part)]
    for part in serving:
        parser.add_argument(f"--{part.value}-port", type=int, default=getattr(defaults, part.value), metavar="PORT")
    parser.add_argument("--images-port", type=int, default=defaults.images, metavar="PORT", help="Sample images")
    args = parser.parse_args(argv)
    ports = Ports(images=args.images_port, **{part.value: getattr(args, f"{part.value}_port") for part in serving})
    config = DemoConfig.from_environment(
        ports=ports,
        parts=frozenset(ALL_PARTS - {Part(name) for name in args.without}),
        orders_every_s=args.orders_every or None,
        conflicting_edits=args.conflicting_edits,
    )
    return Supervisor(config).run_forever()


if __name__ == "__main__":
    sys.exit(main())
