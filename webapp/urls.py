from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, register_converter

from webapp import language
from webapp.views import accounts, api, apidocs, pages


class SongIdConverter:
    """A song id in a path: at most 18 digits, so that it always fits a bigint (a longer one is a
    404 like any unknown address, not a database error)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return str(value)


register_converter(SongIdConverter, "song_id")

api_patterns = ([
    path("recognitions", api.recognitions, name="recognitions"),
    path("recognitions/<uuid:recognition_id>", api.recognition, name="recognition"),
    path("recognitions/<uuid:recognition_id>/correction", api.recognition_correction,
         name="recognition_correction"),
    path("hidden-songs", api.hidden_songs, name="hidden_songs"),
    path("hidden-songs/<song_id:song_id>", api.hidden_song, name="hidden_song"),
    path("mood-strategy", api.mood_strategy, name="mood_strategy"),
    path("favourites", api.favourites, name="favourites"),
    path("favourites/<song_id:song_id>", api.favourite, name="favourite"),
    path("typical-songs", api.typical_songs, name="typical_songs"),
    path("typical-songs/<str:emotion>/<song_id:song_id>", api.typical_song, name="typical_song"),
    path("songs", api.library_songs, name="library_songs"),
    path("schema", apidocs.schema, name="schema"),
    path("docs", apidocs.docs, name="docs"),
], "api")

urlpatterns = [
    path("", pages.home, name="home"),
    path("me/music/", pages.my_music, name="my_music"),
    path("me/snapshots/setting", accounts.snapshot_setting, name="snapshot_setting"),
    path("me/snapshots/delete", accounts.delete_snapshots, name="delete_snapshots"),
    path("me/snapshots/<uuid:snapshot_id>", accounts.snapshot, name="snapshot"),
    path("accounts/signup/", pages.signup, name="signup"),
    path("accounts/login/", accounts.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/delete/", accounts.delete_account, name="delete_account"),
    path("api/", include(api_patterns)),
    path("i18n/setlang/", language.set_language, name="set_language"),
    path("admin/login/", accounts.admin_login),  # before admin.site.urls: throttled, 429
    path("admin/", admin.site.urls),
]

handler400 = "webapp.views.errors.bad_request"
handler404 = "webapp.views.errors.not_found"
handler500 = "webapp.views.errors.server_error"
