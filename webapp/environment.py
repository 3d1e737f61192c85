"""Development defaults for the commands a developer types in a checkout (manage.py, scrapy).

The settings refuse to start with DEBUG off and no SECRET_KEY, which is right for a server and
wrong for `python manage.py createsuperuser` typed in a fresh clone. A command started where the
environment names none of the production settings runs with DEBUG on, as `make run` does; as soon
as any of them is given (a deployment sets at least one), nothing is assumed and the refusal holds.
The web server's entry point (webapp/wsgi.py) never calls this.
"""

import os
import sys

# Any of these in the environment means someone configured this process: no defaults then. So does
# a settings module other than the project's own (the tests' settings, a deployment's).
CONFIGURED_BY = ("DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS")
PROJECT_SETTINGS = "webapp.settings"
NOTE = ("{program}: no SECRET_KEY, DATABASE_URL or DEBUG in the environment, so development settings "
        "(DEBUG=1, SQLite); set them for production.\n")


def use_development_defaults(environ=None, program: str = "manage.py", stderr=None) -> bool:
    """Turn DEBUG on for an unconfigured checkout; True when it did."""
    environ = os.environ if environ is None else environ
    if any(environ.get(name) for name in CONFIGURED_BY) or \
            environ.get("DJANGO_SETTINGS_MODULE", PROJECT_SETTINGS) != PROJECT_SETTINGS:
        return False
    environ["DEBUG"] = "1"
    (stderr or sys.stderr).write(NOTE.format(program=program))
    return True
