#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""
import os
import sys


def main():
    from webapp.environment import use_development_defaults

    # Typed in a fresh checkout: development settings, as `make run` uses (see webapp/environment.py).
    use_development_defaults(program="manage.py")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
