"""Strings of Django's own admin templates that Django's zh-hans catalogue does not translate yet.

Marked here so that `make messages` keeps them in Mien's catalogue, which (LOCALE_PATHS) comes
before Django's. Never imported: makemessages only reads it. Drop a line once Django translates it.
"""

from django.utils.translation import gettext_noop

DJANGO_ADMIN_GAPS = (
    # admin/app_list.html, read aloud as the headers of each application's table
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
)
