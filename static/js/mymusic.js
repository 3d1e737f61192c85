// Mien's "My music" page: remove saved and typical songs, play a saved song in the page, and find
// typical songs in a mood's library (not only in a playlist).
"use strict";

(() => {
  const root = document.getElementById("my-music");
  if (!root) return;
  const strings = JSON.parse(document.getElementById("mien-strings").textContent);
  const status = document.getElementById("my-music-status");

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    const input = root.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function announce(message) {
    status.textContent = "";
    window.setTimeout(() => { status.textContent = message; }, 50);
  }

  function showProblem(item, message) {
    let line = item.querySelector(".song-note");
    if (!line) {
      line = document.createElement("p");
      line.className = "song-note song-note-error";
      line.setAttribute("role", "alert");
      item.append(line);
    }
    line.textContent = message;
  }

  async function remove(button) {
    const item = button.closest("li");
    const list = item.parentElement;
    button.disabled = true;
    let response;
    try {
      response = await fetch(button.dataset.url, {
        method: button.dataset.method || "DELETE",
        headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" },
        credentials: "same-origin",
      });
    } catch (_offline) {
      showProblem(item, strings.network);
      button.disabled = false;
      return;
    }
    if (!response.ok && response.status !== 404) {  // 404: already gone
      showProblem(item, strings.removeFailed);
      button.disabled = false;
      return;
    }
    // Keep keyboard focus somewhere sensible once the row disappears.
    const next = item.nextElementSibling || item.previousElementSibling;
    item.remove();
    announce(strings.removed);
    const group = list.closest(".typical-group");
    if (group) {
      updateGroup(group);
      const found = searchResultButton(group.dataset.emotion, item.dataset.songId);
      if (found) setPressed(found, false, group.dataset.emotion);
    } else if (!list.children.length) {
      const empty = document.getElementById(list.dataset.emptyId);
      if (empty) empty.hidden = false;
    }
    const focusTarget = next && next.querySelector("button, a");
    if (focusTarget) focusTarget.focus();
  }

  function togglePlayer(button) {
    const item = button.closest("li");
    const player = item.querySelector(".player");
    if (player.firstChild) {
      player.replaceChildren();
      button.textContent = strings.playHere;
      button.setAttribute("aria-expanded", "false");
      return;
    }
    for (const open of root.querySelectorAll(".play[aria-expanded=true]")) togglePlayer(open);
    let url;
    try {
      url = new URL(button.dataset.embedUrl, window.location.href);
    } catch (_invalid) {
      return;
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") return;
    const frame = document.createElement("iframe");
    frame.src = url.href;
    frame.height = url.hostname.endsWith("music.163.com") ? "86" : "152";
    frame.allow = "autoplay; clipboard-write; encrypted-media; fullscreen; picture-in-picture";
    frame.referrerPolicy = "strict-origin-when-cross-origin";
    frame.title = strings.playerTitle.replace("__SONG__", button.dataset.title || "");
    player.append(frame);
    button.textContent = strings.hidePlayer;
    button.setAttribute("aria-expanded", "true");
  }

  // ---- Typical songs from a mood's library ----------------------------------------------------

  const ID_PLACEHOLDER = "1234567890";
  const search = {
    form: document.getElementById("typical-search"),
    emotion: document.getElementById("typical-search-emotion"),
    query: document.getElementById("typical-search-query"),
    status: document.getElementById("typical-search-status"),
    results: document.getElementById("typical-search-results"),
  };

  function emotionName(emotion) {
    const option = search.emotion.querySelector(`option[value="${CSS.escape(emotion)}"]`);
    const label = option ? option.textContent.trim() : emotion;
    return label.toLocaleLowerCase(document.documentElement.lang || undefined);
  }

  function typicalList(emotion) {
    return document.getElementById(`typical-list-${emotion}`);
  }

  function updateGroup(group) {
    const list = group.querySelector(".saved-list");
    const count = group.querySelector(".count");
    if (count) count.textContent = `${list.children.length}/3`;
    const empty = document.getElementById(list.dataset.emptyId);
    if (empty) empty.hidden = list.children.length > 0;
  }

  function searchResultButton(emotion, songId) {
    if (!search.results || search.results.dataset.emotion !== emotion) return null;
    const item = search.results.querySelector(`li[data-song-id="${CSS.escape(String(songId))}"]`);
    return item ? item.querySelector("button.add-typical") : null;
  }

  function setPressed(button, pressed, emotion) {
    button.setAttribute("aria-pressed", String(pressed));
    button.textContent = pressed ? strings.isTypical : strings.addTypical.replace("__EMOTION__", emotionName(emotion));
  }

  function listenLink(url) {
    if (!url) return null;
    try {
      const parsed = new URL(url, window.location.href);
      if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return null;
    } catch (_invalid) {
      return null;
    }
    const link = document.createElement("a");
    link.className = "listen button button-small";
    link.href = url;
    link.target = "_blank";
    link.rel = "noopener";
    link.textContent = strings.listen;
    const hint = document.createElement("span");
    hint.className = "visually-hidden";
    hint.textContent = ` ${strings.opensNewTab}`;
    link.append(hint);
    return link;
  }

  function songText(song) {
    const text = document.createElement("div");
    text.className = "saved-text";
    const title = document.createElement("span");
    title.className = "song-title";
    title.textContent = song.title;
    const artist = document.createElement("span");
    artist.className = "song-artist";
    artist.textContent = song.artist;
    text.append(title, artist);
    return text;
  }

  // The row a typical song has in its mood's group (the same markup the server renders).
  function songRow(song, className) {
    const item = document.createElement("li");
    item.className = className;
    item.dataset.songId = String(song.id);
    const actions = document.createElement("div");
    actions.className = "song-actions";
    const link = listenLink(song.url);
    if (link) actions.append(link);
    return { item, text: songText(song), actions };
  }

  function typicalRow(song, emotion) {
    const { item, text, actions } = songRow(song, "saved-song");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "remove button button-small button-quiet";
    button.dataset.method = "DELETE";
    button.dataset.url = root.dataset.typicalSongUrl.replace("EMOTION", encodeURIComponent(emotion))
      .replace(ID_PLACEHOLDER, String(song.id));
    button.textContent = strings.remove;
    const hint = document.createElement("span");
    hint.className = "visually-hidden";
    hint.textContent = ` ${song.title}`;
    button.append(hint);
    actions.append(button);
    item.append(text, actions);
    return item;
  }

  function resultRow(song, emotion) {
    const { item, text, actions } = songRow(song, "saved-song search-result");
    if (song.tags && song.tags.length) {
      const tags = document.createElement("ul");
      tags.className = "tags";
      for (const name of song.tags) {
        const tag = document.createElement("li");
        tag.className = "tag";
        tag.textContent = name;
        tags.append(tag);
      }
      text.append(tags);
    }
    const add = document.createElement("button");
    add.type = "button";
    add.className = "add-typical button button-small";
    setPressed(add, Boolean(song.typical), emotion);
    add.addEventListener("click", () => toggleTypical(item, add, song, emotion));
    actions.append(add);
    item.append(text, actions);
    return item;
  }

  async function jsonOrNull(response) {
    try {
      return await response.json();
    } catch (_notJson) {
      return null;
    }
  }

  async function toggleTypical(item, button, song, emotion) {
    const marked = button.getAttribute("aria-pressed") === "true";
    const list = typicalList(emotion);
    button.disabled = true;
    const old = item.querySelector(".song-note");
    if (old) old.remove();
    let response;
    try {
      response = marked
        ? await fetch(root.dataset.typicalSongUrl.replace("EMOTION", encodeURIComponent(emotion))
          .replace(ID_PLACEHOLDER, String(song.id)), {
          method: "DELETE", headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" },
          credentials: "same-origin",
        })
        : await fetch(root.dataset.typicalSongsUrl, {
          method: "POST",
          headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json", "Content-Type": "application/json" },
          credentials: "same-origin",
          body: JSON.stringify({ emotion, song_id: song.id }),
        });
    } catch (_offline) {
      showProblem(item, strings.network);
      button.disabled = false;
      return;
    }
    button.disabled = false;
    if (!response.ok && !(marked && response.status === 404)) {
      const body = await jsonOrNull(response);
      showProblem(item, (body && typeof body.error === "string" && body.error) || strings.searchFailed);
      return;
    }
    setPressed(button, !marked, emotion);
    const existing = list.querySelector(`li[data-song-id="${CSS.escape(String(song.id))}"]`);
    if (marked) {
      if (existing) existing.remove();
      announce(strings.removed);
    } else {
      if (!existing) list.append(typicalRow(song, emotion));
      announce(strings.added.replace("__EMOTION__", emotionName(emotion)));
    }
    updateGroup(list.closest(".typical-group"));
  }

  async function runSearch() {
    const emotion = search.emotion.value;
    const query = search.query.value.trim();
    if (!query) return;
    const url = new URL(search.form.action, window.location.href);
    url.search = new URLSearchParams({ emotion, q: query }).toString();
    search.status.hidden = false;
    search.status.classList.remove("song-note-error");
    search.status.textContent = strings.searching;
    search.results.setAttribute("aria-busy", "true");
    let response;
    try {
      response = await fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" });
    } catch (_offline) {
      response = null;
    }
    search.results.setAttribute("aria-busy", "false");
    const body = response ? await jsonOrNull(response) : null;
    if (!response || !response.ok || !body) {
      search.results.replaceChildren();
      search.status.classList.add("song-note-error");
      search.status.textContent = !response ? strings.network
        : (body && typeof body.error === "string" && body.error) || strings.searchFailed;
      return;
    }
    search.results.dataset.emotion = emotion;
    search.results.replaceChildren(...body.songs.map((song) => resultRow(song, emotion)));
    search.status.textContent = body.songs.length
      ? strings.found.replace("__COUNT__", String(body.songs.length)).replace("__EMOTION__", emotionName(emotion))
      : strings.noneFound;
  }

  if (search.form) {
    search.form.addEventListener("submit", (event) => {
      event.preventDefault();
      runSearch();
    });
    // Arriving from a playlist (/me/music/?emotion=happy): that mood is chosen and the box is ready
    // (focus scrolls it into view; a #fragment would not do, Chromium drops focus when it scrolls).
    const wanted = new URLSearchParams(window.location.search).get("emotion");
    if (wanted && search.emotion.querySelector(`option[value="${CSS.escape(wanted)}"]`)) {
      search.emotion.value = wanted;
      search.query.focus();
    }
  }

  root.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button || !root.contains(button)) return;
    if (button.classList.contains("remove")) remove(button);
    else if (button.classList.contains("play")) togglePlayer(button);
  });
})();
