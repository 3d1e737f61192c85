"""A Jamendo song's album and Creative Commons licence: stored through the seam, shown where it plays."""

import pytest
from django.urls import reverse

from recommender.attribution import licence_name
from recommender.models import Favourite, Recognition, Song
from tests.crawler.conftest import WITH_DATABASE
from tests.crawler.fakesite import Reply
from tests.crawler.recorded import jamendo_track, jamendo_tracks


def test_a_licence_url_reads_as_its_name():
    assert licence_name("http://creativecommons.org/licenses/by-nc-nd/3.0/") == "CC BY-NC-ND 3.0"
    assert licence_name("https://creativecommons.org/licenses/by-sa/4.0/deed.fr") == "CC BY-SA 4.0"
    assert licence_name("https://creativecommons.org/publicdomain/zero/1.0/") == "CC0 1.0"
    assert licence_name("https://example.org/my-licence") == "example.org" and licence_name("") == ""


@pytest.mark.django_db(transaction=True)
def test_the_licence_and_artist_credit_are_stored_and_shown_where_the_song_plays(crawl, site, client, owner):
    site.route("/v3.0/tracks/", Reply(json=jamendo_tracks([
        jamendo_track(1532771, "Let Me Hear You", "Jekk", genres=["pop"], vartags=["happy"])])))

    crawl("jamendo", settings={**WITH_DATABASE, "JAMENDO_CLIENT_ID": "k"}, tags="happy")

    song = Song.objects.get(source="jamendo", external_id="1532771")
    assert song.license_url == "http://creativecommons.org/licenses/by-nc-nd/3.0/" and song.album == "Album"
    # In the playlist the API hands to the page (camera.js renders the credit line from these)
    client.force_login(owner)
    recognition = Recognition.objects.create(user=owner, status="done", emotion="happy",
                                             probabilities={"happy": 1.0}, songs=[{"id": song.id, "score": 0.9,
                                                                                    "why": []}])
    played = client.get(reverse("api:recognition", args=[recognition.id])).json()["songs"][0]
    assert (played["artist"], played["album"]) == ("Jekk", "Album")
    assert played["license_url"] == song.license_url and played["license_name"] == "CC BY-NC-ND 3.0"
    home = client.get(reverse("home")).content.decode()
    assert 'class="song-credit"' in home and "creditWork" in home  # the row's credit line and its words
    # ... and among the person's saved songs
    Favourite.objects.create(user=owner, song=song)
    page = client.get(reverse("my_music")).content.decode()
    assert "“Let Me Hear You” by Jekk" in page and "from Album" in page
    assert f'href="{song.license_url}"' in page and ">CC BY-NC-ND 3.0</a>" in page
