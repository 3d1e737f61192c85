"""Deploy checks of our own (``manage.py check --deploy``)."""

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.staticfiles, deploy=True)
def static_manifest_exists(app_configs=None, **kwargs):
    """With DEBUG off the pages name static files through collectstatic's manifest; without it every
    HTML page is a 500 ("Missing staticfiles manifest entry")."""
    from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage

    if settings.DEBUG or not isinstance(staticfiles_storage, ManifestFilesMixin):
        return []
    if staticfiles_storage.exists(staticfiles_storage.manifest_name):
        return []
    return [Error(f"The static files manifest is missing from STATIC_ROOT ({settings.STATIC_ROOT}).",
                  hint="Run `manage.py collectstatic --no-input` before starting the web process "
                       "(`make serve` does).", id="webapp.E001")]
