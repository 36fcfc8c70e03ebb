"""The ribbon actions that are also `yibao` subcommands.

Each module named here defines ``add_parser(subparsers)``; the command line
adds them in this order. A module not written yet is simply absent.
"""
import importlib

ACTION_MODULES = ["validate", "refresh", "dedupe", "quota", "reward", "progress", "summary", "notice", "reconcile", "renewal",
                  "uninsured", "split", "gather"]


def add_all(subparsers):
    for name in ACTION_MODULES:
        try:
            module = importlib.import_module(f"yibao.macros.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"yibao.macros.{name}":
                continue
            raise
        module.add_parser(subparsers)
