// The brush editor: paint the area to change over the picture (brush, eraser, rectangle,
// lasso; undo, invert, clear), with a mouse, a pen or a finger (pointer events), then send
// the mask as a one-bit PNG of the picture's exact size (white = change) with the prompt.
// Plain JS, no build step, nothing inline: the page's CSP allows this file only.
"use strict";
(() => {
  const root = document.getElementById("editor");
  const pictures = JSON.parse(root.dataset.pictures);
  const view = document.getElementById("picture");
  const mask = document.getElementById("mask");
  const ink = mask.getContext("2d", { willReadFrequently: true });
  const sizeInput = document.getElementById("size");
  const undoButton = document.getElementById("undo");
  const go = document.getElementById("go");
  const status = document.getElementById("status");
  const PAINT = "rgb(255, 40, 150)";
  const UNDO_DEPTH = 20;
  let current = pictures[0];
  let tool = "brush";
  let stroke = null;
  let painted = false;
  const history = [];
  const words = root.dataset; // the page's words, in its language (data-word-*)

  function say(text, bad) {
    status.textContent = text;
    status.classList.toggle("bad", Boolean(bad));
  }

  function load(picture) {
    current = picture;
    for (const canvas of [view, mask]) {
      canvas.width = picture.width;
      canvas.height = picture.height;
    }
    history.length = 0;
    painted = false;
    refresh();
    const image = new Image();
    image.onload = () => view.getContext("2d").drawImage(image, 0, 0, picture.width, picture.height);
    image.onerror = () => say(words.wordNoPicture, true);
    image.src = picture.url;
  }

  function refresh() {
    undoButton.disabled = history.length === 0;
    go.disabled = !painted;
  }

  function remember() {
    history.push(ink.getImageData(0, 0, mask.width, mask.height));
    if (history.length > UNDO_DEPTH) history.shift();
  }

  function at(event) {
    const box = mask.getBoundingClientRect();
    return {
      x: ((event.clientX - box.left) * mask.width) / box.width,
      y: ((event.clientY - box.top) * mask.height) / box.height,
    };
  }

  function brushWidth() {
    const box = mask.getBoundingClientRect();
    return (Number(sizeInput.value) * mask.width) / Math.max(1, box.width);
  }

  function line(from, to) {
    ink.globalCompositeOperation = tool === "eraser" ? "destination-out" : "source-over";
    ink.strokeStyle = PAINT;
    ink.lineWidth = brushWidth();
    ink.lineCap = "round";
    ink.lineJoin = "round";
    ink.beginPath();
    ink.moveTo(from.x, from.y);
    ink.lineTo(to.x + 0.01, to.y);
    ink.stroke();
  }

  function shape(points, preview) {
    ink.putImageData(history[history.length - 1], 0, 0);
    ink.globalCompositeOperation = "source-over";
    ink.fillStyle = PAINT;
    ink.beginPath();
    if (tool === "rect") {
      const [a, b] = [points[0], points[points.length - 1]];
      ink.rect(Math.min(a.x, b.x), Math.min(a.y, b.y), Math.abs(a.x - b.x), Math.abs(a.y - b.y));
    } else {
      points.forEach((p, i) => (i ? ink.lineTo(p.x, p.y) : ink.moveTo(p.x, p.y)));
      ink.closePath();
    }
    if (preview) {
      ink.strokeStyle = PAINT;
      ink.lineWidth = Math.max(2, brushWidth() / 8);
      ink.stroke();
    } else {
      ink.fill();
    }
  }

  mask.addEventListener("pointerdown", (event) => {
    if (event.button > 0) return;
    event.preventDefault();
    mask.setPointerCapture(event.pointerId);
    remember();
    stroke = { id: event.pointerId, points: [at(event)] };
    if (tool === "brush" || tool === "eraser") line(stroke.points[0], stroke.points[0]);
  });
  mask.addEventListener("pointermove", (event) => {
    if (!stroke || event.pointerId !== stroke.id) return;
    event.preventDefault();
    const point = at(event);
    if (tool === "brush" || tool === "eraser") line(stroke.points[stroke.points.length - 1], point);
    stroke.points.push(point);
    if (tool === "rect" || tool === "lasso") shape(stroke.points, true);
  });
  function finish(event) {
    if (!stroke || event.pointerId !== stroke.id) return;
    if (tool === "rect" || tool === "lasso") shape(stroke.points, false);
    painted = painted || tool !== "eraser";
    stroke = null;
    refresh();
  }
  mask.addEventListener("pointerup", finish);
  mask.addEventListener("pointercancel", finish);

  for (const button of document.querySelectorAll("[data-tool]")) {
    button.addEventListener("click", () => {
      tool = button.dataset.tool;
      for (const other of document.querySelectorAll("[data-tool]")) {
        other.setAttribute("aria-pressed", String(other === button));
      }
    });
  }
  undoButton.addEventListener("click", () => {
    if (history.length) ink.putImageData(history.pop(), 0, 0);
    refresh();
  });
  document.getElementById("clear").addEventListener("click", () => {
    remember();
    ink.clearRect(0, 0, mask.width, mask.height);
    painted = false;
    refresh();
  });
  document.getElementById("invert").addEventListener("click", () => {
    remember();
    const data = ink.getImageData(0, 0, mask.width, mask.height);
    const px = data.data;
    for (let i = 0; i < px.length; i += 4) {
      const on = px[i + 3] >= 128;
      px[i] = 255; px[i + 1] = 40; px[i + 2] = 150;
      px[i + 3] = on ? 0 : 255;
    }
    ink.putImageData(data, 0, 0);
    painted = true;
    refresh();
  });
  const which = document.getElementById("which");
  if (which) {
    which.addEventListener("change", (event) => {
      const chosen = pictures.find((p) => String(p.index) === event.target.value);
      if (chosen) load(chosen);
    });
  }

  // -- the mask as a one-bit greyscale PNG: white where painted ----------------------------
  const CRC = new Uint32Array(256).map((_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  function crc32(bytes) {
    let c = 0xffffffff;
    for (const b of bytes) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  }
  function chunk(type, body) {
    const out = new Uint8Array(12 + body.length);
    const view32 = new DataView(out.buffer);
    view32.setUint32(0, body.length);
    out.set(new TextEncoder().encode(type), 4);
    out.set(body, 8);
    view32.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)));
    return out;
  }
  async function deflate(bytes) {
    const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("deflate"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }
  async function maskPng() {
    const { width, height } = mask;
    const alpha = ink.getImageData(0, 0, width, height).data;
    const stride = Math.ceil(width / 8) + 1; // a filter byte (0: none), then the bits
    const raw = new Uint8Array(stride * height);
    for (let y = 0; y < height; y++) {
      const row = y * stride;
      for (let x = 0; x < width; x++) {
        if (alpha[(y * width + x) * 4 + 3] >= 128) raw[row + 1 + (x >> 3)] |= 0x80 >> (x & 7);
      }
    }
    const header = new Uint8Array(13);
    const h = new DataView(header.buffer);
    h.setUint32(0, width);
    h.setUint32(4, height);
    header.set([1, 0, 0, 0, 0], 8); // bit depth 1, greyscale, deflate, no filter, no interlace
    const signature = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]);
    const parts = [signature, chunk("IHDR", header), chunk("IDAT", await deflate(raw)), chunk("IEND", new Uint8Array())];
    return new Blob(parts, { type: "image/png" });
  }

  function initData() {
    // A Mini App gets Telegram's signed initData in the address's fragment.
    const fragment = new URLSearchParams(location.hash.slice(1));
    return fragment.get("tgWebAppData") || "";
  }

  document.getElementById("form").addEventListener("submit", async (event) => {
    event.preventDefault();
    go.disabled = true;
    say(words.wordSending);
    const form = new FormData();
    form.append("index", String(current.index));
    form.append("prompt", document.getElementById("prompt").value);
    form.append("init_data", initData());
    form.append("mask", await maskPng(), "mask.png");
    let answer;
    try {
      const response = await fetch(root.dataset.submit, { method: "POST", body: form, credentials: "same-origin" });
      try {
        answer = await response.json();
      } catch (error) {
        answer = { ok: false, message: words.wordServer.replace("{status}", String(response.status)) };
      }
    } catch (error) {
      answer = { ok: false, message: words.wordOffline };
    }
    say(answer.message, !answer.ok);
    if (answer.ok) root.classList.add("sent");
    else refresh();
  });

  // The tools and the form paint first; the picture (up to 2048x2048, two canvases of its
  // size) is set up in the next frame, so a slow phone shows the editor before decoding it.
  requestAnimationFrame(() => setTimeout(() => load(current), 0));
})();
