// Drives the hosted verification flow (/session/{token}) in Chromium:
//   node flow.js <base_url> <json>
// json: {mode, url, artifacts, files: {good, text, big, pdf}, callback, expect, tmp}
//   mode "upload":  the sandbox path by file upload (refusals first when `refusals` is set),
//                   ending in the callback redirect with `expect` as the status;
//   mode "camera":  a live session with Chromium's fake camera fed from y4m files this script
//                   renders (an ID card, then a face), ending on the processing screen, or —
//                   with `images` and `expect` — decided by the engines, ending in the callback;
//   mode "active":  a live ACTIVE_3D session filming a still portrait through the head-pose
//                   challenge, ending in the callback with `expect`;
//   mode "cross":   a desktop shows the QR code, a phone completes, the desktop shows the result;
//   mode "expired": the expired-link page;
//   mode "scenarios": every sandbox session of `sessions` ({url, session_id, expect, prefix}) by
//                   upload in one browser, each ending in its callback redirect;
//   mode "branding": the application's logo, favicon and accent colour (`accent`, rgb()) show;
//   mode "choice":  the document-choice step offers exactly `countries` ({name: [types]}) and,
//                   for any other country, `other` types.
// Lines: `INFO <text>` for the Rust test, `ASK <question>` for checks only it can make.
"use strict";

const fs = require("fs");
const path = require("path");
const { launch, shoot, ask, check, checkAccessibility, finish, PHONE, DESKTOP } = require("./lib");

const [base, spec] = process.argv.slice(2);
const o = JSON.parse(spec);
for (const url of [o.url].concat((o.sessions || []).map((s) => s.url)).filter(Boolean)) check(url.startsWith(base), `${url} is not under ${base}`);
const dir = o.artifacts;
const LONG = { timeout: 30000 };

/** Collects errors a page should never have (CSP violations, failed assets, script errors). */
function watch(page, failures) {
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) failures.push(m.text());
  });
  page.on("response", (r) => {
    const refusal = r.url().includes("/flow/session/captures/") && [400, 413, 415].includes(r.status());
    if (r.status() >= 400 && r.request().resourceType() !== "document" && !refusal) failures.push(`${r.status()} ${r.url()}`);
  });
  page.on("pageerror", (e) => failures.push(String(e)));
}

async function onScreen(page, name) {
  await page.waitForSelector(`#flow[data-screen="${name}"]`, LONG);
}

async function welcome(page, shotName) {
  await onScreen(page, "welcome");
  check((await page.textContent("main")).includes(o.organization), "organization shown");
  await checkAccessibility(page);
  if (shotName) await shoot(page, dir, shotName);
  // Starting without consent is refused with a message.
  await page.click("#start");
  check(await page.isVisible("#consent-error .notice.error"), "consent is required");
  await page.check("#consent");
  await page.click("#start");
}

/** Total bytes transferred for the document and every resource loaded so far. */
async function pageWeight(page) {
  return page.evaluate(() => {
    const entries = performance.getEntriesByType("navigation").concat(performance.getEntriesByType("resource"));
    return entries.filter((e) => !e.name.includes("/flow/session/")).reduce((sum, e) => sum + (e.transferSize || e.encodedBodySize || 0), 0);
  });
}

async function upload(page, kind, file) {
  await page.waitForSelector(`#file-${kind}`, LONG);
  await page.setInputFiles(`#file-${kind}`, file);
}

async function refused(page, kind, file, words, shotName) {
  await upload(page, kind, file);
  await page.waitForFunction((w) => {
    const n = document.querySelector(".problems .notice.error");
    return n && n.textContent.includes(w);
  }, words, LONG);
  await shoot(page, dir, shotName);
}

/** Completes every remaining step by upload; returns when the processing screen shows. */
async function completeByUpload(page, prefix, refusals) {
  for (let n = 2; ; n++) {
    await page.waitForFunction(() => {
      const s = document.querySelector("#flow").dataset.screen;
      return s && s !== "welcome";
    }, null, LONG);
    const screen = await page.$eval("#flow", (f) => f.dataset.screen);
    if (screen === "processing" || screen === "result") return;
    if (screen === "document") {
      if (prefix) await shoot(page, dir, `${prefix}-${n}-document`);
      if (await page.$("#doc-ID")) await page.check("#doc-ID");
      await page.click("#doc-continue");
      continue;
    }
    if (screen === "submit") {
      if (prefix) await shoot(page, dir, `${prefix}-${n}-submit`);
      await page.click("#submit");
      await page.waitForSelector('#flow[data-screen="processing"], #flow[data-screen="result"]', LONG);
      return;
    }
    const file = screen === "poa_document" ? o.files.pdf : o.files.good;
    await page.waitForSelector(`#file-${screen}`, LONG);
    await checkAccessibility(page);
    if (prefix) await shoot(page, dir, `${prefix}-${n}-${screen}`);
    if (refusals && screen === "document_front") {
      await refused(page, screen, o.files.text, "file type is not accepted", `${prefix}-${n}-refused-type`);
      await refused(page, screen, o.files.big, "too large", `${prefix}-${n}-refused-size`);
    }
    await upload(page, screen, file);
    await page.waitForFunction((s) => document.querySelector("#flow").dataset.screen !== s, screen, LONG);
  }
}

async function result(page, prefix, status) {
  await onScreen(page, "result");
  const shown = await page.$eval("#result", (r) => r.dataset.status);
  check(shown === status, `result ${shown}, expected ${status}`);
  await shoot(page, dir, `${prefix}-result`);
}

async function waitForCallback(page, status, sessionId = o.session_id) {
  await page.waitForURL((u) => u.href.startsWith(o.callback), LONG);
  const url = new URL(page.url());
  check(url.searchParams.get("verificationSessionId") === sessionId, `callback id ${url.href}`);
  check(url.searchParams.get("status") === status, `callback status ${url.href}`);
}

async function callbackContext(browser, viewport) {
  const context = await browser.newContext({ viewport, locale: "en-GB" });
  await context.route(`${o.callback}**`, (route) =>
    route.fulfill({ status: 200, contentType: "text/html", body: "<!doctype html><title>Back at the business</title><h1>Back</h1>" }));
  return context;
}

async function uploadMode() {
  // The camera is "granted" but there is none: the page must offer the upload fallback.
  const browser = await launch(["--use-fake-ui-for-media-stream"]);
  try {
    const context = await callbackContext(browser, PHONE);
    const page = await context.newPage();
    const failures = [];
    watch(page, failures);
    const response = await page.goto(o.url);
    check(response.status() === 200, `page answered ${response.status()}`);
    const csp = response.headers()["content-security-policy"];
    check(csp.includes("frame-ancestors *") && csp.includes("script-src 'self'"), `CSP ${csp}`);
    check(await page.isVisible(".banner"), "sandbox banner shown");
    await onScreen(page, "welcome");
    await page.waitForLoadState("load");
    const weight = await pageWeight(page);
    process.stdout.write(`INFO weight=${weight}\n`);
    check(weight > 0 && weight < 150 * 1024, `first screen weighs ${weight} bytes`);
    const prefix = o.prefix;
    await welcome(page, `${prefix}-1-welcome`);
    await completeByUpload(page, prefix, o.refusals);
    await shoot(page, dir, `${prefix}-processing`);
    await result(page, prefix, o.expect);
    await waitForCallback(page, o.expect);
    check(failures.length === 0, `browser errors: ${failures.join("; ")}`);
  } finally {
    await browser.close();
  }
}

/** Renders a 640×480 picture in a canvas and writes it as a two-frame 4:2:0 y4m video. */
/**
 * Writes a two-frame 4:2:0 y4m video of `drawing`: "card" and "face" are drawn here; any other
 * value is the path of a picture (a generated document or portrait) scaled into the frame.
 */
async function renderY4m(browser, drawing, file, w = 640, h = 480) {
  const page = await browser.newPage();
  const picture = drawing === "card" || drawing === "face" ? null
    : `data:image/${/\.jpe?g$/i.test(drawing) ? "jpeg" : "png"};base64,${fs.readFileSync(drawing).toString("base64")}`;
  const b64 = await page.evaluate(async ({ drawing, picture, w, h }) => {
    const c = document.createElement("canvas");
    c.width = w; c.height = h;
    const g = c.getContext("2d");
    if (picture) {
      const img = new Image();
      img.src = picture;
      await img.decode();
      // Held up to the camera: the picture fills most of the frame on a dark background.
      const scale = Math.min((w * 0.92) / img.width, (h * 0.92) / img.height);
      const dw = img.width * scale, dh = img.height * scale;
      g.fillStyle = "#2b2f36"; g.fillRect(0, 0, w, h);
      g.drawImage(img, (w - dw) / 2, (h - dh) / 2, dw, dh);
    } else if (drawing === "card") {
      g.fillStyle = "#2b2f36"; g.fillRect(0, 0, w, h);
      g.fillStyle = "#eef3fa"; g.beginPath(); g.roundRect(60, 80, 520, 330, 18); g.fill();
      g.fillStyle = "#1d4ed8"; g.fillRect(60, 80, 520, 54);
      g.fillStyle = "#fff"; g.font = "bold 28px sans-serif"; g.fillText("IDENTITY CARD", 80, 118);
      g.fillStyle = "#c9d2de"; g.fillRect(84, 154, 130, 160);
      g.fillStyle = "#7a5a44"; g.beginPath(); g.ellipse(149, 220, 38, 48, 0, 0, 7); g.fill();
      g.fillStyle = "#111"; g.font = "bold 20px sans-serif";
      [["SURNAME", "GARCIA LOPEZ"], ["GIVEN NAMES", "ANA MARIA"], ["DATE OF BIRTH", "12 03 1990"], ["DOCUMENT NO", "X1234567Z"]]
        .forEach(([k, v], i) => { g.font = "13px sans-serif"; g.fillText(k, 236, 166 + i * 40); g.font = "bold 20px sans-serif"; g.fillText(v, 236, 186 + i * 40); });
      g.font = "bold 22px monospace";
      g.fillText("IDESPX1234567Z<<<<<<<<<<<<<<<", 76, 358);
      g.fillText("9003128F3001019ESP<<<<<<<<<<<6", 76, 388);
    } else {
      g.fillStyle = "#dfe6ee"; g.fillRect(0, 0, w, h);
      g.fillStyle = "#3b2a20"; g.beginPath(); g.ellipse(320, 200, 130, 150, 0, 0, 7); g.fill();
      g.fillStyle = "#c8906a"; g.beginPath(); g.ellipse(320, 250, 110, 140, 0, 0, 7); g.fill();
      g.fillStyle = "#fff"; [270, 370].forEach((x) => { g.beginPath(); g.ellipse(x, 225, 22, 12, 0, 0, 7); g.fill(); });
      g.fillStyle = "#2a1a10"; [270, 370].forEach((x) => { g.beginPath(); g.arc(x, 225, 8, 0, 7); g.fill(); g.fillRect(x - 26, 196, 52, 7); });
      g.strokeStyle = "#8a5a40"; g.lineWidth = 5; g.beginPath(); g.moveTo(320, 240); g.lineTo(308, 300); g.lineTo(330, 302); g.stroke();
      g.strokeStyle = "#7a2430"; g.lineWidth = 7; g.beginPath(); g.arc(320, 320, 40, 0.2, Math.PI - 0.2); g.stroke();
      g.fillStyle = "#1f3b6b"; g.fillRect(170, 390, 300, 90);
    }
    const rgba = g.getImageData(0, 0, w, h).data;
    const y = new Uint8Array(w * h), u = new Uint8Array(w * h / 4), v = new Uint8Array(w * h / 4);
    for (let i = 0; i < w * h; i++) {
      const r = rgba[4 * i], gr = rgba[4 * i + 1], b = rgba[4 * i + 2];
      y[i] = Math.round(0.299 * r + 0.587 * gr + 0.114 * b);
    }
    for (let j = 0; j < h / 2; j++) for (let i = 0; i < w / 2; i++) {
      const p = 4 * (2 * j * w + 2 * i), r = rgba[p], gr = rgba[p + 1], b = rgba[p + 2];
      u[j * w / 2 + i] = Math.max(0, Math.min(255, Math.round(128 - 0.168736 * r - 0.331264 * gr + 0.5 * b)));
      v[j * w / 2 + i] = Math.max(0, Math.min(255, Math.round(128 + 0.5 * r - 0.418688 * gr - 0.081312 * b)));
    }
    const all = new Uint8Array(y.length + u.length + v.length);
    all.set(y); all.set(u, y.length); all.set(v, y.length + u.length);
    let s = "";
    for (let i = 0; i < all.length; i += 8192) s += String.fromCharCode.apply(null, all.subarray(i, i + 8192));
    return btoa(s);
  }, { drawing, picture, w, h });
  await page.close();
  const frame = Buffer.from(b64, "base64");
  const header = Buffer.from(`YUV4MPEG2 W${w} H${h} F30:1 Ip A1:1 C420jpeg\n`);
  const marker = Buffer.from("FRAME\n");
  fs.writeFileSync(file, Buffer.concat([header, marker, frame, marker, frame]));
}

function cameraBrowser(video) {
  return launch(["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
    `--use-file-for-fake-video-capture=${video}`]);
}

async function takePhoto(page, kind, prefix) {
  await onScreen(page, kind);
  await page.waitForSelector("#shoot:not([disabled])", LONG);
  await page.waitForFunction(() => document.querySelector("video").videoWidth > 0, null, LONG);
  await shoot(page, dir, `${prefix}-camera`);
  await page.click("#shoot");
  await onScreen(page, `${kind}-preview`);
  await page.waitForFunction(() => document.querySelector("img.preview").complete, null, LONG);
  const sharpness = await page.$eval("#flow", (f) => f.dataset.sharpness);
  process.stdout.write(`INFO ${kind}-sharpness=${sharpness}\n`);
  await shoot(page, dir, `${prefix}-preview`);
  await page.click("#use-photo");
  await page.waitForFunction((k) => document.querySelector("#flow").dataset.screen !== `${k}-preview`, kind, LONG);
}

async function cameraMode() {
  fs.mkdirSync(o.tmp, { recursive: true });
  const card = path.join(o.tmp, "card.y4m"), face = path.join(o.tmp, "face.y4m");
  const plain = await launch();
  try {
    // Generated pictures (`images`: a document and a portrait) are filmed in HD so the engines
    // can read them; otherwise simple drawings stand in.
    const size = o.images ? [1280, 720] : [640, 480];
    await renderY4m(plain, o.images ? o.images.document : "card", card, ...size);
    await renderY4m(plain, o.images ? o.images.face : "face", face, ...size);
  } finally {
    await plain.close();
  }
  // The document with a camera that films the card.
  let browser = await cameraBrowser(card);
  try {
    const context = await browser.newContext({ viewport: PHONE, locale: "en-GB" });
    const page = await context.newPage();
    const failures = [];
    watch(page, failures);
    await page.goto(o.url);
    check(!(await page.isVisible(".banner")), "no sandbox banner on a live session");
    await welcome(page, "live-1-welcome");
    await onScreen(page, "document");
    if (o.passport) await page.check("#doc-P");
    await shoot(page, dir, "live-2-document");
    await page.click("#doc-continue");
    await takePhoto(page, "document_front", "live-3-front");
    if (!o.passport) await takePhoto(page, "document_back", "live-4-back");
    await onScreen(page, "selfie");
    check(failures.length === 0, `browser errors: ${failures.join("; ")}`);
  } finally {
    await browser.close();
  }
  // The selfie with a camera that films a face: the page resumes after the stored document.
  browser = await cameraBrowser(face);
  try {
    const context = await callbackContext(browser, PHONE);
    const page = await context.newPage();
    const failures = [];
    watch(page, failures);
    await page.goto(o.url);
    await welcome(page, null);
    await takePhoto(page, "selfie", "live-5-selfie");
    await completeByUpload(page, "live-6", false);
    await onScreen(page, "processing");
    if (o.expect) {
      // The engines decide: the result, then the callback redirect with the decided status.
      await shoot(page, dir, "live-7-processing");
      // Real engines on a shared CI machine: allow minutes, not seconds.
      await page.waitForSelector('#flow[data-screen="result"]', { timeout: 300000 });
      await result(page, "live-8", o.expect);
      await waitForCallback(page, o.expect);
    } else {
      await page.waitForSelector('#flow[data-processing="waiting_for_engine"]', LONG);
      await shoot(page, dir, "live-7-processing");
      check((await ask("live-parked")) === "ok", "the session is In Progress with its captures");
    }
    check(failures.length === 0, `browser errors: ${failures.join("; ")}`);
  } finally {
    await browser.close();
  }
}

/**
 * A live ACTIVE_3D session whose camera films a still portrait (`images.face`): the page runs
 * the server's head-pose challenge, sends the frames, and follows the decision to the callback
 * with `expect` as the status.
 */
async function activeMode() {
  fs.mkdirSync(o.tmp, { recursive: true });
  const face = path.join(o.tmp, "still-face.y4m");
  const plain = await launch();
  try {
    await renderY4m(plain, o.images.face, face);
  } finally {
    await plain.close();
  }
  const browser = await cameraBrowser(face);
  try {
    const context = await callbackContext(browser, PHONE);
    const page = await context.newPage();
    const failures = [];
    watch(page, failures);
    await page.goto(o.url);
    await welcome(page, "active-1-welcome");
    await onScreen(page, "selfie");
    await page.waitForSelector("#shoot:not([disabled])", LONG);
    await page.waitForFunction(() => document.querySelector("video").videoWidth > 0, null, LONG);
    await checkAccessibility(page);
    await shoot(page, dir, "active-2-ready");
    await page.click("#shoot");
    await page.waitForSelector("#pose", LONG);
    process.stdout.write(`INFO challenge=${await page.$eval("#flow", (f) => f.dataset.challenge)}\n`);
    await shoot(page, dir, "active-3-look-straight");
    await page.waitForFunction(() => {
      const pose = document.querySelector("#flow").dataset.pose;
      return pose && pose !== "CENTER";
    }, null, LONG);
    await shoot(page, dir, "active-4-turn");
    // The frames go once the last prompt has been shown; then the remaining steps.
    await page.waitForFunction(() => document.querySelector("#flow").dataset.screen !== "selfie", null, LONG);
    await completeByUpload(page, "active-5", false);
    await shoot(page, dir, "active-6-processing");
    await page.waitForSelector('#flow[data-screen="result"]', { timeout: 300000 });
    await result(page, "active-7", o.expect);
    await waitForCallback(page, o.expect);
    check(failures.length === 0, `browser errors: ${failures.join("; ")}`);
  } finally {
    await browser.close();
  }
}

async function crossMode() {
  const browser = await launch(["--use-fake-ui-for-media-stream"]);
  try {
    const desktopContext = await callbackContext(browser, DESKTOP);
    const desktop = await desktopContext.newPage();
    const failures = [];
    watch(desktop, failures);
    await desktop.goto(o.url);
    await onScreen(desktop, "welcome");
    check(await desktop.isVisible("aside .qr svg"), "QR shown on the desktop");
    await desktop.waitForSelector("#qr-status:not(:empty)", LONG);
    await desktop.screenshot({ path: path.join(dir, "cross-1-desktop-qr-desktop.png"), fullPage: true });

    const phoneContext = await callbackContext(browser, PHONE);
    const phone = await phoneContext.newPage();
    watch(phone, failures);
    await phone.goto(o.url);
    // This "phone" has no camera either, so it too is offered the QR code (and the upload).
    await phone.waitForSelector("aside .qr svg", { state: "visible", timeout: 30000 });
    await welcome(phone, "cross-2-phone-welcome");
    await completeByUpload(phone, "cross-3-phone", false);
    await result(phone, `cross-${o.method}-5-phone`, o.expect);
    // callback_method: the device that opened the link first (initiator), the one that finished
    // (completer), or both are sent back to the business.
    const phoneReturns = o.method !== "initiator";
    const desktopReturns = o.method !== "completer";
    check((await phone.isVisible("a.button")) === phoneReturns, `completer redirected: ${!phoneReturns} (callback_method ${o.method})`);
    // The desktop noticed the phone's submission and followed it to the result.
    await onScreen(desktop, "result");
    check((await desktop.textContent("#flow")).includes("Continued on another device"), "desktop says the phone finished");
    check((await desktop.isVisible("a.button")) === desktopReturns, `initiator redirected: ${!desktopReturns} (callback_method ${o.method})`);
    await desktop.screenshot({ path: path.join(dir, `cross-${o.method}-6-desktop-result-desktop.png`), fullPage: true });
    if (desktopReturns) await waitForCallback(desktop, o.expect);
    if (phoneReturns) await waitForCallback(phone, o.expect);
    check(failures.length === 0, `browser errors: ${failures.join("; ")}`);
  } finally {
    await browser.close();
  }
}

async function expiredMode() {
  const browser = await launch();
  try {
    const page = await (await browser.newContext({ viewport: PHONE, locale: "es-ES" })).newPage();
    const response = await page.goto(o.url);
    check(response.status() === 410, `expired link answered ${response.status()}`);
    check((await page.textContent("h1")) === o.title, `heading ${await page.textContent("h1")}`);
    check(await page.isVisible(".notice.error"), "message shown");
    await shoot(page, dir, "expired");
    const unknown = await page.goto(`${base}/session/${"x".repeat(20)}`);
    check(unknown.status() === 404, `unknown link answered ${unknown.status()}`);
    await shoot(page, dir, "unknown");
  } finally {
    await browser.close();
  }
}

async function scenariosMode() {
  const browser = await launch(["--use-fake-ui-for-media-stream"]);
  try {
    for (const session of o.sessions) {
      const context = await callbackContext(browser, PHONE);
      const page = await context.newPage();
      const failures = [];
      watch(page, failures);
      await page.goto(session.url);
      await welcome(page, null);
      await completeByUpload(page, null, false);
      await result(page, session.prefix, session.expect);
      await waitForCallback(page, session.expect, session.session_id);
      check(failures.length === 0, `${session.prefix}: browser errors: ${failures.join("; ")}`);
      process.stdout.write(`INFO played ${session.prefix}\n`);
      await context.close();
    }
  } finally {
    await browser.close();
  }
}

async function brandingMode() {
  const browser = await launch(["--use-fake-ui-for-media-stream"]);
  try {
    const page = await (await browser.newContext({ viewport: PHONE, locale: "en-GB" })).newPage();
    const failures = [];
    watch(page, failures);
    await page.goto(o.url);
    await onScreen(page, "welcome");
    await page.waitForLoadState("load");
    const logo = await page.$eval("header img.logo", (img) => ({ width: img.naturalWidth, src: img.src }));
    check(logo.width > 0 && logo.src.includes("/branding/"), `logo ${JSON.stringify(logo)}`);
    const icon = await page.$eval("link[rel=icon]", (l) => l.href);
    check(icon.includes("/branding/") && icon.includes("image_favicon"), `favicon ${icon}`);
    const color = await page.$eval("#start", (b) => getComputedStyle(b).backgroundColor);
    check(color === o.accent, `start button is ${color}, expected ${o.accent}`);
    await shoot(page, dir, "branding-welcome");
    check(failures.length === 0, `browser errors: ${failures.join("; ")}`);
  } finally {
    await browser.close();
  }
}

async function choiceMode() {
  const browser = await launch(["--use-fake-ui-for-media-stream"]);
  try {
    const page = await (await browser.newContext({ viewport: PHONE, locale: "en-GB" })).newPage();
    await page.goto(o.url);
    await welcome(page, null);
    await onScreen(page, "document");
    const offered = () => page.$$eval("input[name=doctype]", (inputs) => inputs.map((i) => i.value).join(","));
    const options = await page.$$eval("#doc-country option", (all) => all.map((opt) => [opt.value, opt.textContent]));
    const expected = Object.keys(o.countries).concat(o.other.length ? [""] : []);
    check(JSON.stringify(options.map(([v]) => v).sort()) === JSON.stringify(expected.sort()), `countries offered ${JSON.stringify(options)}`);
    for (const [code, name] of options) {
      await page.selectOption("#doc-country", code);
      const types = await offered();
      const want = (code ? o.countries[code] : o.other).join(",");
      check(types === want, `${name || "other"}: types ${types}, expected ${want}`);
      process.stdout.write(`INFO ${code || "other"} ${name}: ${types}\n`);
    }
    await shoot(page, dir, "choice-document");
    await page.click("#doc-continue");
    await page.waitForFunction(() => document.querySelector("#flow").dataset.screen !== "document", null, LONG);
  } finally {
    await browser.close();
  }
}

finish(async () => {
  fs.mkdirSync(dir, { recursive: true });
  const modes = {
    upload: uploadMode, camera: cameraMode, active: activeMode, cross: crossMode, expired: expiredMode,
    scenarios: scenariosMode, choice: choiceMode, branding: brandingMode,
  };
  await modes[o.mode]();
});
