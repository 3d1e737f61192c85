// Mien's "My music" page: remove saved and typical songs, play a saved song in the page.
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
      const count = group.querySelector(".count");
      if (count) count.textContent = `${list.children.length}/3`;
    }
    if (!list.children.length) {
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

  root.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button || !root.contains(button)) return;
    if (button.classList.contains("remove")) remove(button);
    else if (button.classList.contains("play")) togglePlayer(button);
  });
})();
