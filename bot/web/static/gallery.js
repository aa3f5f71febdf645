// The gallery's only script: "load more" and infinite scroll, copy prompt, keyboard keys,
// a confirmation before deleting. Everything also works without it (plain links and forms).
// Its words come from the page (data-word-*, data-confirm), in the page's language.
"use strict";

(function () {
  const grid = document.getElementById("grid");
  const button = document.getElementById("load-more");
  let loading = false;

  function nextUrl() {
    const marker = grid && grid.querySelector("li.next");
    return marker ? marker.getAttribute("data-more") : null;
  }

  async function loadMore() {
    const url = nextUrl();
    if (loading || !url) return;
    loading = true;
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      if (!response.ok) throw new Error(String(response.status));
      const template = document.createElement("template");
      template.innerHTML = await response.text(); // server-rendered, every user text escaped
      grid.querySelector("li.next").remove();
      grid.append(template.content);
      if (!nextUrl() && button) button.parentElement.remove();
    } catch (error) {
      if (button) button.textContent = grid.dataset.wordLoadFailed;
    } finally {
      loading = false;
    }
  }

  if (grid && button) {
    button.addEventListener("click", function (event) {
      event.preventDefault();
      loadMore();
    });
    if ("IntersectionObserver" in window) {
      new IntersectionObserver(function (entries) {
        if (entries.some((entry) => entry.isIntersecting)) loadMore();
      }, { rootMargin: "600px" }).observe(button);
    }
  }

  const copy = document.getElementById("copy-prompt");
  if (copy) {
    copy.addEventListener("click", async function () {
      const text = document.getElementById(copy.getAttribute("data-target")).textContent;
      try {
        await navigator.clipboard.writeText(text);
        copy.textContent = copy.dataset.wordCopied;
      } catch (error) {
        const range = document.createRange();
        range.selectNodeContents(document.getElementById(copy.getAttribute("data-target")));
        window.getSelection().removeAllRanges();
        window.getSelection().addRange(range);
        copy.textContent = copy.dataset.wordSelected;
      }
    });
  }

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });

  document.addEventListener("keydown", function (event) {
    const typing = /^(INPUT|SELECT|TEXTAREA)$/.test(document.activeElement.tagName);
    if (event.key === "/" && !typing) {
      const search = document.getElementById("q");
      if (search) {
        event.preventDefault();
        search.focus();
      }
    } else if (event.key === "Escape" && !typing) {
      const back = document.getElementById("back");
      if (back) window.location.href = back.href;
    }
  });
})();
