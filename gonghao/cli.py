"""The `gonghao` console script: a thin front over Django's management commands."""

from __future__ import annotations

import os
import sys

USAGE = """usage: gonghao <command> [options]

  serve [--host H] [--port P]        run the web UI and API (gunicorn + whitenoise)
  migrate                            create or upgrade the database
  createadmin --name NAME [--password-file FILE] [--role ROLE]
                                     create an administrator; prints the 工号 last
  bootstrap                          create the first administrator on an empty database
  audit verify                       recompute the audit hash chain
  messages send [--limit N]          deliver queued e-mails and SMS that are due
  jobs run | list                    run the scheduled jobs that are due (cron, every minute)
  import customers|contacts|employees FILE --as 工号 [--commit|--dry-run]
                                     check an .xlsx/.csv file; --commit imports all rows or none
  export customers|contacts|interactions|opportunities --format xlsx|csv [--output FILE] --as 工号
                                     export what that employee may see (masked, audited)

Any other Django management command works too (gonghao help lists them)."""


def cli_language() -> str:
    """Messages follow the shell's locale: Chinese for zh_*, English otherwise."""
    for name in ("GONGHAO_CLI_LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return "zh-hans" if value.lower().startswith("zh") else "en"
    return "en"


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(USAGE)
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gonghao.settings")
    import django
    from django.core.management import execute_from_command_line
    from django.utils import translation

    django.setup()
    translation.activate(cli_language())

    if args[0] == "migrate":
        execute_from_command_line(["gonghao", *args])
        # A migration creates the cache table already; stay quiet about it, as `migrate -v 0` is.
        execute_from_command_line(["gonghao", "createcachetable", "--verbosity", "0"])
        return
    execute_from_command_line(["gonghao", *args])


if __name__ == "__main__":
    main()
