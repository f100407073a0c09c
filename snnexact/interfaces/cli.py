"""Command line: ``snnexact compare`` (the main job), ``train``, ``evaluate``, ``search``,
``protocol``, ``landscape``, ``validate``, ``data info``, ``demo``."""
import argparse
import sys


def build_parser():
    from snnexact import __version__
    parser = argparse.ArgumentParser(prog="snnexact", description=__doc__)
    parser.add_argument("--version", action="version", version=f"snnexact {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    from snnexact.interfaces.data_command import register as register_data
    register_data(sub)
    from snnexact.interfaces.demo import register as register_demo
    register_demo(sub)
    from snnexact.interfaces.commands import register as register_commands
    register_commands(sub)
    from snnexact.interfaces.protocol_commands import register as register_protocol
    register_protocol(sub)
    from snnexact.interfaces.landscape_command import register as register_landscape
    register_landscape(sub)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except (ValueError, TypeError, FileNotFoundError) as exc:
        print(f"snnexact: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
