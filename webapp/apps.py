import os
import sys
import threading

from django.apps import AppConfig
from django.conf import settings


class WebappConfig(AppConfig):
    name = "webapp"

    def ready(self):
        from django.contrib import admin

        from webapp import checks  # noqa: F401  (registers the deploy checks)
        from webapp import language  # noqa: F401 - connects the log-in signal
        from webapp.forms import ThrottledAdminAuthenticationForm

        # The admin's log-in counts failed passwords like the site's own (webapp/ratelimit.py).
        admin.site.login_form = ThrottledAdminAuthenticationForm
        # With tasks in-process (no REDIS_URL), load the emotion model while the development server
        # starts, not on the first snapshot: a person should not wait seconds for TensorFlow. Only in
        # the process that serves (the autoreloader's parent never does).
        serving = "runserver" in sys.argv and (os.environ.get("RUN_MAIN") == "true" or "--noreload" in sys.argv)
        if settings.CELERY_TASK_ALWAYS_EAGER and serving:
            threading.Thread(target=_warm_up, name="warm-emotion-model", daemon=True).start()


def _warm_up():
    from recommender.emotion.predictor import get_predictor

    try:
        get_predictor()
    except Exception:  # the first snapshot will report it properly
        pass
