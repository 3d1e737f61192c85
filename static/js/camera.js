// Mien's snapshot page: camera preview, snap or upload, wait for the recognition, show the playlist.
// Plain JavaScript with standard browser APIs only; every user-facing string comes from the page.
"use strict";

(() => {
  const root = document.getElementById("mien");
  if (!root) return;

  // The server holds each request until the recognition ends (a long-poll, `?wait=` seconds), so a
  // snapshot costs one or two requests instead of one every 300 ms.
  const WAIT_SECONDS = 10;
  const RETRY_MS = 300;  // pause after a network hiccup, or a server that answered without waiting
  const POLL_TIMEOUT_MS = 30000;
  const ID_PLACEHOLDER = "1234567890";
  const FACES = {
    angry: "\u{1F620}", disgust: "\u{1F922}", fear: "\u{1F628}", happy: "\u{1F604}",
    sad: "\u{1F622}", surprise: "\u{1F62E}", neutral: "\u{1F610}",
  };

  const strings = JSON.parse(document.getElementById("mien-strings").textContent);
  const byId = (id) => document.getElementById(id);
  const el = {
    video: byId("preview"),
    frame: byId("camera-frame"),
    cameraStatus: byId("camera-status"),
    flash: byId("flash"),
    snap: byId("snap"),
    upload: byId("upload"),
    uploadBox: byId("upload-box"),
    cameraMessage: byId("camera-message"),
    spinner: byId("spinner"),
    result: byId("result"),
    placeholder: byId("result-placeholder"),
    resultBody: byId("result-body"),
    emotion: byId("emotion"),
    emotionFace: byId("emotion-face"),
    facesNote: byId("faces-note"),
    correctedNote: byId("corrected-note"),
    strategyNote: byId("strategy-note"),
    correction: byId("correction"),
    error: byId("error"),
    playlistSection: byId("playlist-section"),
    playlist: byId("playlist"),
    songTemplate: byId("song-template"),
    chooseTypical: byId("choose-typical"),  // signed-in people only
  };
  const urls = {
    recognitions: root.dataset.recognitionsUrl,
    favourites: root.dataset.favouritesUrl,
    favourite: root.dataset.favouriteUrl,
    typicalSongs: root.dataset.typicalSongsUrl,
    typicalSong: root.dataset.typicalSongUrl,
    hiddenSongs: root.dataset.hiddenSongsUrl,
    recognition: root.dataset.recognitionUrl,
  };
  const NO_RECOGNITION = "00000000-0000-0000-0000-000000000000";
  let current = null;  // the recognition on show, for corrections
  const authenticated = root.dataset.authenticated === "true";
  const maxUploadBytes = Number(root.dataset.maxUploadBytes) || Infinity;
  const percent = (() => {
    const options = { style: "percent", maximumFractionDigits: 0 };
    try {
      return new Intl.NumberFormat(document.documentElement.lang || undefined, options);
    } catch (_unknownLocale) {
      return new Intl.NumberFormat(undefined, options);
    }
  })();

  // "rock, pop and dance" / "摇滚、流行和舞曲": lists follow the page's language too.
  const tagList = (() => {
    try {
      return new Intl.ListFormat(document.documentElement.lang || undefined, { type: "conjunction" });
    } catch (_unknownLocale) {
      return { format: (items) => items.join(", ") };
    }
  })();

  let cameraReady = false;
  let busy = false;

  class UserFacingError extends Error {}

  // ---- HTTP -------------------------------------------------------------------------------

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    const input = root.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function request(url, method, body) {
    const headers = { "Accept": "application/json", "X-CSRFToken": csrfToken() };
    const options = { method, headers, credentials: "same-origin" };
    if (body instanceof FormData) {
      options.body = body;
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options);
  }

  // A message a person understands for a response that is not a success.
  async function errorMessage(response) {
    let message = "";
    try {
      const body = await response.json();
      if (body && typeof body.error === "string") message = body.error;
    } catch (_ignored) { /* not JSON: a proxy page or Django's HTML error */ }
    if (response.status === 429) return message || strings.tooMany;
    if (response.status === 413) return message || strings.tooLarge;
    if (response.status === 401) return message || strings.signInToSave;
    if (response.status === 403) return strings.forbidden;  // CSRF failures answer in HTML
    if (message) return message;
    return response.status >= 500 ? strings.server : strings.failed;
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  async function poll(url) {
    const deadline = performance.now() + POLL_TIMEOUT_MS;
    for (;;) {
      const waitSeconds = Math.max(0, Math.min(WAIT_SECONDS, Math.floor((deadline - performance.now()) / 1000)));
      const waiting = new URL(url, window.location.href);
      waiting.searchParams.set("wait", String(waitSeconds));
      const asked = performance.now();
      let response = null;
      try {
        response = await fetch(waiting, { headers: { "Accept": "application/json" }, credentials: "same-origin", cache: "no-store" });
      } catch (_networkHiccup) {
        response = null;  // retried until the deadline
      }
      if (response) {
        if (!response.ok) throw new UserFacingError(await errorMessage(response));
        const body = await response.json();
        if (body.status === "done" || body.status === "failed") return body;
      }
      if (performance.now() >= deadline) throw new UserFacingError(strings.timeout);
      // Still pending after the wait: ask again at once; sooner than asked: something is off, pause.
      if (!response || performance.now() - asked < waitSeconds * 1000 - 100) await sleep(RETRY_MS);
    }
  }

  // ---- Camera -----------------------------------------------------------------------------

  function cameraUnavailable(message) {
    cameraReady = false;
    el.frame.classList.add("camera-off");
    el.cameraStatus.textContent = strings.cameraOff;
    el.cameraMessage.textContent = message;
    el.cameraMessage.hidden = false;
    el.uploadBox.classList.add("highlight");
    updateControls();
  }

  async function startCamera() {
    if (!navigator.mediaDevices || typeof navigator.mediaDevices.getUserMedia !== "function") {
      cameraUnavailable(strings.cameraMissing);
      return;
    }
    try {
      const stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: "user", width: 640, height: 480 },
        audio: false,
      });
      el.video.srcObject = stream;
      for (const track of stream.getVideoTracks()) {
        track.addEventListener("ended", () => cameraUnavailable(strings.cameraUnavailable));
      }
      if (el.video.readyState < HTMLMediaElement.HAVE_CURRENT_DATA) {
        await new Promise((resolve) => el.video.addEventListener("loadeddata", resolve, { once: true }));
      }
      try { await el.video.play(); } catch (_autoplayBlocked) { /* muted autoplay is allowed; ignore */ }
      cameraReady = true;
      el.frame.classList.add("camera-on");
      updateControls();
    } catch (error) {
      const name = error && error.name;
      if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") {
        cameraUnavailable(strings.cameraRefused);
      } else if (name === "NotFoundError" || name === "OverconstrainedError" || name === "DevicesNotFoundError") {
        cameraUnavailable(strings.cameraNotFound);
      } else if (name === "NotReadableError" || name === "TrackStartError") {
        cameraUnavailable(strings.cameraBusy);
      } else {
        cameraUnavailable(strings.cameraUnavailable);
      }
    }
  }

  function capture() {
    const width = el.video.videoWidth;
    const height = el.video.videoHeight;
    if (!width || !height) return Promise.resolve(null);
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    canvas.getContext("2d").drawImage(el.video, 0, 0, width, height);
    return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.9));
  }

  function flash() {
    el.flash.classList.remove("on");
    void el.flash.offsetWidth;  // restart the animation
    el.flash.classList.add("on");
  }

  // ---- Recognition ------------------------------------------------------------------------

  function updateControls() {
    el.snap.disabled = busy || !cameraReady;
    el.upload.disabled = busy;
    el.snap.setAttribute("aria-busy", String(busy));
  }

  function setBusy(value) {
    busy = value;
    el.spinner.hidden = !value;
    el.result.setAttribute("aria-busy", String(value));
    updateControls();
  }

  function bringIntoView(element) {
    const box = element.getBoundingClientRect();
    if (box.top < 0 || box.top > window.innerHeight * 0.8) {
      element.scrollIntoView({ behavior: "smooth", block: "start" });
    }
  }

  function showError(message) {
    el.error.textContent = message;
    el.error.hidden = false;
    el.placeholder.hidden = true;
    bringIntoView(el.result);
  }

  // A new attempt replaces the last result: an error never sits above a stale playlist.
  function clearResult() {
    current = null;
    el.error.hidden = true;
    el.error.textContent = "";
    el.placeholder.hidden = true;
    el.resultBody.hidden = true;
    el.playlistSection.hidden = true;
    el.playlist.replaceChildren();
    delete el.result.dataset.emotion;
  }

  async function recognise(image, filename) {
    if (busy) return;
    clearResult();
    if (image.type && !image.type.startsWith("image/")) {
      showError(strings.notAnImage);
      return;
    }
    if (image.size > maxUploadBytes) {
      showError(strings.tooLarge);
      return;
    }
    setBusy(true);
    try {
      const form = new FormData();
      form.append("image", image, filename);
      let response;
      try {
        response = await request(urls.recognitions, "POST", form);
      } catch (_offline) {
        throw new UserFacingError(strings.network);
      }
      if (!response.ok) throw new UserFacingError(await errorMessage(response));
      const created = await response.json();
      const result = await poll(created.url);
      if (result.status === "failed") {
        showError(result.error || strings.failed);
      } else {
        render(result);
      }
    } catch (error) {
      showError(error instanceof UserFacingError ? error.message : strings.failed);
      if (!(error instanceof UserFacingError)) console.error(error);
    } finally {
      setBusy(false);
    }
  }

  function render(result) {
    current = result;
    // The playlist follows the person's correction when they made one; the detection stays visible.
    const shown = result.corrected_emotion || result.emotion;
    el.emotion.textContent = result.corrected_emotion_label || result.emotion_label || result.emotion || "";
    el.emotionFace.textContent = FACES[shown] || "";
    el.result.dataset.emotion = shown || "";
    el.correctedNote.hidden = !result.corrected_emotion;
    el.correctedNote.textContent = result.corrected_emotion
      ? strings.detectedAs.replace("__EMOTION__", result.emotion_label || result.emotion) : "";
    el.strategyNote.hidden = !result.strategy_label;
    el.strategyNote.textContent = result.strategy_label || "";
    el.strategyNote.dataset.strategy = result.strategy || "";
    for (const button of el.correction.querySelectorAll(".correct-emotion")) {
      button.hidden = button.dataset.emotion === shown;
      button.disabled = false;
    }
    el.correction.hidden = !result.correction_url;
    el.facesNote.hidden = !(result.faces > 1);
    el.facesNote.textContent = result.faces > 1 ? strings.severalFaces : "";

    const probabilities = result.probabilities || {};
    const top = result.emotion;
    for (const row of el.resultBody.querySelectorAll(".probability")) {
      const key = row.dataset.emotion;
      const p = Math.min(1, Math.max(0, Number(probabilities[key]) || 0));
      row.querySelector(".bar").style.width = `${(p * 100).toFixed(1)}%`;
      row.querySelector(".probability-value").textContent = percent.format(p);
      row.classList.toggle("top", key === top);
    }
    el.resultBody.hidden = false;

    renderPlaylist(result.songs || [], shown);
    if (el.chooseTypical && shown) {
      const url = new URL(el.chooseTypical.getAttribute("href"), window.location.href);
      url.search = new URLSearchParams({ emotion: shown }).toString();
      el.chooseTypical.href = url.pathname + url.search;
    }
    el.playlistSection.hidden = false;
    bringIntoView(el.result);
  }

  // ---- Playlist ---------------------------------------------------------------------------

  function isWebUrl(url) {
    try {
      const parsed = new URL(url, window.location.href);
      return parsed.protocol === "https:" || parsed.protocol === "http:";
    } catch (_invalid) {
      return false;
    }
  }

  function renderPlaylist(songs, emotion) {
    el.playlist.replaceChildren();
    if (!songs.length) {
      const empty = document.createElement("li");
      empty.className = "playlist-empty";
      empty.textContent = strings.noSongs;
      el.playlist.append(empty);
      return;
    }
    songs.forEach((song, index) => el.playlist.append(songItem(song, index, emotion)));
  }

  function songItem(song, index, emotion) {
    const item = el.songTemplate.content.firstElementChild.cloneNode(true);
    item.dataset.songId = String(song.id);
    item.querySelector(".song-rank").textContent = String(index + 1);
    item.querySelector(".song-title").textContent = song.title;
    item.querySelector(".song-artist").textContent = song.artist;
    item.querySelector(".song-score").textContent =
      strings.match.replace("__PERCENT__", percent.format(Number(song.score) || 0));

    const why = song.why || [];
    if (why.length) {
      item.querySelector(".why-tags").textContent = tagList.format(why);
      item.querySelector(".song-why").hidden = false;
    }
    // Songs picked because people (or playlists) kept them with the person's typical songs.
    const reasons = item.querySelector(".song-reasons");
    for (const reason of song.reasons || []) {
      const line = document.createElement("li");
      line.className = `song-reason reason-${reason.kind}`;
      line.textContent = reason.text;
      reasons.append(line);
    }
    reasons.hidden = !reasons.children.length;
    // In a blend or a lift, which mood's songs this one comes from.
    const mood = item.querySelector(".song-mood");
    if (song.mood_label && current && current.strategy !== "match") {
      mood.textContent = strings.fromMood.replace("__EMOTION__", song.mood_label.toLowerCase());
      mood.dataset.mood = song.mood || "";
      mood.hidden = false;
    }
    const shared = new Set(why);
    const tags = item.querySelector(".tags");
    for (const name of song.tags || []) {
      const tag = document.createElement("li");
      tag.className = shared.has(name) ? "tag tag-shared" : "tag";
      tag.textContent = name;
      tags.append(tag);
    }
    if (!tags.children.length) tags.remove();

    const listen = item.querySelector(".listen");
    if (song.url && isWebUrl(song.url)) listen.href = song.url;
    else listen.remove();

    credit(item, song);

    const play = item.querySelector(".play");
    if ((song.embed_url && isWebUrl(song.embed_url)) || (song.audio_url && isWebUrl(song.audio_url))) {
      play.addEventListener("click", () => togglePlayer(item, play, song));
    } else {
      play.remove();
    }

    if (authenticated) {
      const save = item.querySelector(".save");
      save.addEventListener("click", () => toggleSave(item, save, song));
      const typical = item.querySelector(".typical");
      if (emotion && strings.typicalFor[emotion]) {
        typical.textContent = strings.typicalFor[emotion];
        typical.addEventListener("click", () => toggleTypical(item, typical, song, emotion));
      } else {
        typical.remove();
      }
      const hide = item.querySelector(".hide-song");
      hide.addEventListener("click", () => hideSong(item, hide, song));
    }
    return item;
  }

  // A song under a licence (Jamendo's Creative Commons tracks) plays with its artist and licence shown.
  function credit(item, song) {
    const line = item.querySelector(".song-credit");
    if (!song.license_url || !isWebUrl(song.license_url)) return;
    let work = strings.creditWork.replace("__TITLE__", song.title).replace("__ARTIST__", song.artist);
    if (song.album) work += ` ${strings.creditAlbum.replace("__ALBUM__", song.album)}`;
    line.querySelector(".credit-work").textContent = work;
    const licence = line.querySelector(".credit-licence");
    licence.href = song.license_url;
    licence.textContent = song.license_name || song.license_url;
    line.hidden = false;
  }

  function playerHeight(url) {
    try {
      const host = new URL(url).hostname;
      if (host.endsWith("music.163.com")) return 86;
    } catch (_invalid) { /* fall through */ }
    return 152;
  }

  function closePlayer(item) {
    const player = item.querySelector(".player");
    const button = item.querySelector(".play");
    player.replaceChildren();
    item.classList.remove("playing");
    if (button) {
      button.textContent = strings.playHere;
      button.setAttribute("aria-expanded", "false");
    }
  }

  // The player loads only when asked, and only one plays at a time.
  function togglePlayer(item, button, song) {
    const player = item.querySelector(".player");
    if (player.firstChild) {
      closePlayer(item);
      return;
    }
    for (const other of el.playlist.querySelectorAll(".song.playing")) closePlayer(other);
    const label = strings.playerTitle.replace("__SONG__", `${song.title} \u2013 ${song.artist}`);
    let media;
    if (song.embed_url && isWebUrl(song.embed_url)) {
      media = document.createElement("iframe");
      media.src = song.embed_url;
      media.height = String(playerHeight(song.embed_url));
      media.allow = "autoplay; clipboard-write; encrypted-media; fullscreen; picture-in-picture";
      media.referrerPolicy = "strict-origin-when-cross-origin";
      media.loading = "lazy";
    } else {
      media = document.createElement("audio");
      media.src = song.audio_url;
      media.controls = true;
      media.autoplay = true;
      media.preload = "none";
    }
    media.title = label;
    media.setAttribute("aria-label", label);
    player.append(media);
    item.classList.add("playing");
    button.textContent = strings.hidePlayer;
    button.setAttribute("aria-expanded", "true");
  }

  function note(item, message, isError) {
    const line = item.querySelector(".song-note");
    line.textContent = message;
    line.classList.toggle("song-note-error", Boolean(isError));
    line.hidden = !message;
  }

  function setPressed(button, pressed, text) {
    button.setAttribute("aria-pressed", String(pressed));
    if (text !== undefined) button.textContent = text;
  }

  async function toggleSave(item, button, song) {
    const saved = button.getAttribute("aria-pressed") === "true";
    button.disabled = true;
    note(item, "");
    try {
      const response = saved
        ? await request(urls.favourite.replace(ID_PLACEHOLDER, String(song.id)), "DELETE")
        : await request(urls.favourites, "POST", { song_id: song.id });
      if (response.ok || (saved && response.status === 404)) {
        setPressed(button, !saved, saved ? strings.save : strings.saved);
      } else {
        note(item, await errorMessage(response), true);
      }
    } catch (_offline) {
      note(item, strings.network, true);
    } finally {
      button.disabled = false;
    }
  }

  async function toggleTypical(item, button, song, emotion) {
    const marked = button.getAttribute("aria-pressed") === "true";
    button.disabled = true;
    note(item, "");
    try {
      const response = marked
        ? await request(urls.typicalSong.replace("EMOTION", encodeURIComponent(emotion))
          .replace(ID_PLACEHOLDER, String(song.id)), "DELETE")
        : await request(urls.typicalSongs, "POST", { emotion, song_id: song.id });
      if (response.ok || (marked && response.status === 404)) {
        setPressed(button, !marked);
        if (!marked) note(item, strings.typicalSaved);
      } else {
        note(item, await errorMessage(response), true);
      }
    } catch (_offline) {
      note(item, strings.network, true);
    } finally {
      button.disabled = false;
    }
  }

  async function hideSong(item, button, song) {
    button.disabled = true;
    note(item, "");
    try {
      const response = await request(urls.hiddenSongs, "POST", { song_id: song.id });
      if (response.ok) {
        closePlayer(item);
        item.classList.add("song-hidden");
        for (const control of item.querySelectorAll(".song-actions > *")) control.hidden = true;
        note(item, strings.hidden);
        return;
      }
      note(item, await errorMessage(response), true);
    } catch (_offline) {
      note(item, strings.network, true);
    }
    button.disabled = false;
  }

  // "I'm actually ...": the playlist is re-ranked for the emotion the person says they feel.
  async function correct(emotion) {
    if (!current || !current.correction_url || busy) return;
    const buttons = el.correction.querySelectorAll(".correct-emotion");
    for (const button of buttons) button.disabled = true;
    try {
      const response = await request(current.correction_url, "POST", { emotion });
      if (!response.ok) throw new UserFacingError(await errorMessage(response));
      render(await response.json());
    } catch (error) {
      showError(error instanceof UserFacingError ? error.message : strings.network);
      for (const button of buttons) button.disabled = false;
    }
  }

  // Reopen a past playlist (links from My music): /?recognition=<id>.
  async function reopen() {
    const id = new URLSearchParams(window.location.search).get("recognition");
    if (!id || !/^[0-9a-f-]{36}$/i.test(id)) return;
    setBusy(true);
    try {
      const result = await poll(urls.recognition.replace(NO_RECOGNITION, id));
      if (result.status === "failed") showError(result.error || strings.failed);
      else render(result);
    } catch (error) {
      showError(error instanceof UserFacingError ? error.message : strings.failed);
    } finally {
      setBusy(false);
    }
  }

  // ---- Wiring -----------------------------------------------------------------------------

  el.snap.addEventListener("click", async () => {
    if (busy || !cameraReady) return;
    const blob = await capture();
    if (!blob) {
      showError(strings.cameraNotReady);
      return;
    }
    flash();
    await recognise(blob, "snapshot.jpg");
  });

  el.upload.addEventListener("change", async () => {
    const file = el.upload.files && el.upload.files[0];
    if (!file) return;
    try {
      await recognise(file, file.name || "photo.jpg");
    } finally {
      el.upload.value = "";  // choosing the same file again still fires "change"
    }
  });

  el.correction.addEventListener("click", (event) => {
    const button = event.target.closest(".correct-emotion");
    if (button) correct(button.dataset.emotion);
  });

  updateControls();
  startCamera();
  reopen();
})();
