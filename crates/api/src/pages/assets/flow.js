// The hosted verification flow (docs/hosted-flow.md). Runs the session's steps against the
// session-token JSON API (docs/flow-api.md); every string comes from the translation files via
// the page's JSON data block. No framework: a screen is a function that fills #flow.
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("flow-config").textContent);
  var root = document.getElementById("flow");
  var announcer = document.getElementById("announce");
  var qrStatus = document.getElementById("qr-status");
  var API = "/flow/session/";
  var state = null;          // the flow API's state
  var plan = [];             // screens in order
  var docType = null;        // chosen document type (P has no back)
  var submitted = false;     // this page sent the submit
  var stream = null;         // the open camera
  var follow = null;         // timer following another device / processing
  var localUploads = 0;

  function t(key, values) {
    var text = cfg.strings["flow." + key] || key;
    var all = { organization: cfg.organization, application: cfg.application };
    Object.keys(values || {}).forEach(function (k) { all[k] = values[k]; });
    return text.replace(/\{(\w+)\}/g, function (m, name) { return name in all ? String(all[name]) : m; });
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "class") node.className = attrs[k];
      else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), attrs[k]);
      else if (attrs[k] !== false && attrs[k] !== null && attrs[k] !== undefined) node.setAttribute(k, attrs[k] === true ? "" : attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }

  function announce(text) { announcer.textContent = ""; setTimeout(function () { announcer.textContent = text; }, 50); }

  function notice(text, tone) {
    return el("p", { class: "notice " + tone, role: tone === "error" ? "alert" : "status", text: text });
  }

  // Replaces the screen; the heading takes focus so screen readers read the new step.
  function screen(name, title, children) {
    stopCamera();
    root.setAttribute("aria-busy", "false");
    root.dataset.screen = name;
    root.textContent = "";
    var index = plan.indexOf(name);
    if (index > 0 && plan[plan.length - 1] === "submit") {
      root.appendChild(el("p", { class: "step", text: t("step_of", { n: index, total: plan.length - 1 }) }));
    }
    var heading = el("h1", { tabindex: "-1", text: title });
    root.appendChild(heading);
    children.forEach(function (c) { if (c) root.appendChild(c); });
    heading.focus();
  }

  function api(method, path, body) {
    var init = { method: method, headers: { "X-Session-Token": cfg.token }, cache: "no-store" };
    // A FormData body sets its own multipart Content-Type.
    if (body) { init.body = body; if (!(body instanceof FormData)) init.headers["Content-Type"] = "application/octet-stream"; }
    return fetch(API + path, init).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (json) { return { status: r.status, body: json }; });
    }, function () { return { status: 0, body: { code: "network" } }; });
  }

  // A refusal as a sentence: the page's own translation of the API's code, else its detail.
  function refusal(answer) {
    var code = answer.body && answer.body.code;
    if (answer.status === 429) return t("error.rate_limited");
    if (code && cfg.strings["flow.error." + code]) return t("error." + code);
    if (answer.body && answer.body.detail) return answer.body.detail;
    return t("error.generic");
  }

  function remember(kind) { try { localStorage.setItem("verity:" + kind + ":" + state.session_id, "1"); } catch (e) { /* storage blocked */ } }
  function remembered(kind) { try { return localStorage.getItem("verity:" + kind + ":" + state.session_id) === "1"; } catch (e) { return false; } }
  var initiatorHere = false;

  function stored(kind) { return state.captures.some(function (c) { return c.kind === kind; }); }
  function needs(kind) {
    return state.steps.some(function (s) { return s.captures.some(function (c) { return c.kind === kind; }); });
  }

  function buildPlan() {
    plan = ["welcome"];
    if (needs("document_front")) plan.push("document", "document_front", "document_back");
    if (needs("selfie")) plan.push("selfie");
    if (needs("poa_document")) plan.push("poa_document");
    plan.push("submit");
  }

  function next(from) {
    var i = plan.indexOf(from) + 1;
    for (; i < plan.length; i++) {
      var name = plan[i];
      if (name === "document" && stored("document_front")) continue;
      if (name === "document_back" && (docType === "P" || (!docType && stored("document_front")) || stored("document_back"))) continue;
      if ((name === "document_front" || name === "selfie" || name === "poa_document") && stored(name)) continue;
      break;
    }
    go(plan[i]);
  }

  function go(name) {
    if (name === "welcome") return welcome();
    if (name === "document") return chooseDocument();
    if (name === "document_front" || name === "document_back" || name === "selfie") return capture(name);
    if (name === "poa_document") return proofOfAddress();
    return review();
  }

  // ---- desktop / cross-device -------------------------------------------------------------
  function isDesktop() { return window.matchMedia("(min-width: 900px) and (pointer: fine)").matches; }
  function hideQr() { document.body.classList.add("no-qr"); }

  // While this page has not submitted, follow the session: another device may be completing it.
  function followOtherDevice() {
    clearInterval(follow);
    var known = state.captures.length;
    follow = setInterval(function () {
      if (submitted) { clearInterval(follow); return; }
      api("GET", "").then(function (answer) {
        if (answer.status !== 200 || submitted) return;
        var s = answer.body;
        if (s.captures.length > known + localUploads && qrStatus) qrStatus.textContent = t("qr_phone_active");
        if (s.processing || s.callback_url || ["Approved", "Declined", "In Review"].indexOf(s.status) >= 0) {
          clearInterval(follow);
          state = s;
          processing(true);
        }
      });
    }, 2000);
  }

  // ---- screens ----------------------------------------------------------------------------
  function welcome() {
    var features = [];
    state.steps.forEach(function (s) { if (features.indexOf(s.feature) < 0) features.push(s.feature); });
    var checks = el("ul", { class: "checks" }, features.map(function (f) {
      return el("li", { text: cfg.strings["flow.check." + f] ? t("check." + f) : t("check.other") });
    }));
    var box = el("input", { type: "checkbox", id: "consent", name: "consent", "aria-describedby": "privacy" });
    var error = el("div", { id: "consent-error" });
    var desktopOnlyQr = isDesktop() && state.workflow && state.workflow.is_desktop_allowed === false;
    var start = el("button", { type: "button", id: "start", text: t("start"), onclick: function () {
      if (!box.checked) {
        error.textContent = "";
        error.appendChild(notice(t("consent_required"), "error"));
        box.setAttribute("aria-invalid", "true");
        box.focus();
        return;
      }
      next("welcome");
    } });
    screen("welcome", t("welcome_title"), [
      el("p", { text: t("welcome_intro") }),
      el("h2", { text: t("checks_title") }), checks,
      el("p", { id: "privacy", class: "note", text: t("privacy") }),
      desktopOnlyQr ? notice(t("desktop_not_allowed"), "info") : null,
      error,
      desktopOnlyQr ? null : el("div", { class: "consent" }, [box, el("label", { for: "consent", text: t("consent_label") })]),
      desktopOnlyQr ? null : start,
    ]);
    if (qrStatus) qrStatus.textContent = t("qr_waiting");
  }

  // Country and type, limited by the workflow's documents_allowed and the session's
  // expected_document_types (the OCR step's document_choice, computed by the server).
  function chooseDocument() {
    var ocr = state.steps.filter(function (s) { return s.feature === "OCR"; })[0];
    var choice = (ocr && ocr.document_choice) || { other_countries: ["P", "ID", "DL", "RP"], countries: [] };
    var regionNames = null;
    try { regionNames = new Intl.DisplayNames([cfg.lang], { type: "region" }); } catch (e) { regionNames = null; }
    function countryName(c) {
      try { return (c.alpha2 && regionNames && regionNames.of(c.alpha2)) || c.name; } catch (e) { return c.name; }
    }
    var select = null;
    if (choice.countries.length) {
      var options = choice.countries.map(function (c) { return el("option", { value: c.code, text: countryName(c) }); });
      if (choice.other_countries.length) options.push(el("option", { value: "", text: t("doc_other_country") }));
      select = el("select", { id: "doc-country", name: "country" }, options);
    }
    var typesBox = el("div", { class: "doc-types" });
    function typesFor(code) {
      var match = choice.countries.filter(function (c) { return c.code === code; })[0];
      return match ? match.types : choice.other_countries;
    }
    function renderTypes() {
      var types = typesFor(select ? select.value : "");
      typesBox.textContent = "";
      typesBox.appendChild(el("fieldset", { class: "choices" }, [el("legend", { text: t("doc_type") })].concat(types.map(function (code, i) {
        var input = el("input", { type: "radio", name: "doctype", id: "doc-" + code, value: code, checked: types.length === 1 || code === "ID" || (i === 0 && types.indexOf("ID") < 0) });
        return el("div", { class: "choice" }, [input, el("label", { for: "doc-" + code, text: t("doc." + code) })]);
      }))));
    }
    if (select) select.addEventListener("change", renderTypes);
    renderTypes();
    var none = !choice.countries.length && !choice.other_countries.length;
    screen("document", t("doc_title"), none ? [notice(t("doc_none_accepted"), "error")] : [
      select ? el("label", { for: "doc-country", text: t("doc_country") }) : null, select, typesBox,
      el("button", { type: "button", id: "doc-continue", text: t("continue"), onclick: function () {
        var chosen = root.querySelector("input[name=doctype]:checked");
        docType = chosen ? chosen.value : "ID";
        next("document");
      } })]);
  }

  function stopCamera() {
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); stream = null; }
  }

  // Grey levels of the current video frame, downscaled to at most 200 px wide.
  function sample(video) {
    var w = Math.min(200, video.videoWidth), h = Math.max(1, Math.round(video.videoHeight * w / video.videoWidth));
    var canvas = el("canvas", { width: w, height: h });
    var ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(video, 0, 0, w, h);
    var rgba = ctx.getImageData(0, 0, w, h).data, grey = new Float32Array(w * h);
    for (var i = 0; i < w * h; i++) grey[i] = 0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2];
    return { w: w, h: h, grey: grey };
  }

  // Sharpness (variance of the Laplacian), stillness (mean change between two frames) and light.
  function quality(a, b) {
    var w = b.w, h = b.h, g = b.grey, sum = 0, sq = 0, n = 0, diff = 0, light = 0;
    for (var y = 1; y < h - 1; y++) {
      for (var x = 1; x < w - 1; x++) {
        var i = y * w + x;
        var lap = g[i - 1] + g[i + 1] + g[i - w] + g[i + w] - 4 * g[i];
        sum += lap; sq += lap * lap; n++;
      }
    }
    for (var j = 0; j < g.length; j++) { light += g[j]; diff += Math.abs(g[j] - a.grey[j]); }
    var mean = sum / n;
    return { sharpness: sq / n - mean * mean, motion: diff / g.length, light: light / g.length };
  }

  function capture(kind) {
    var selfie = kind === "selfie";
    var title = selfie ? t("selfie_title") : kind === "document_back" ? t("back_title") : docType === "P" ? t("passport_title") : t("front_title");
    var liveness = state.steps.filter(function (s) { return s.feature === "LIVENESS"; })[0];
    // A live ACTIVE_3D step films a server-chosen head-pose challenge instead of one still.
    var active = selfie && !cfg.sandbox && liveness && liveness.liveness_method === "ACTIVE_3D";
    var hint = selfie ? (active ? t("selfie_active_hint") : t("selfie_hint")) : t("doc_hint");
    var video = el("video", { autoplay: true, muted: true, playsinline: true, "aria-label": t("camera_label") });
    var frame = el("div", { class: "camera " + (selfie ? "face" : "doc") }, [video, el("div", { class: "frame", "aria-hidden": "true" })]);
    var status = el("p", { class: "note", role: "status", text: t("camera_starting") });
    var problems = el("div", { class: "problems" });
    var shoot = el("button", { type: "button", id: "shoot", text: active ? t("liveness_start") : t("capture"), disabled: true });
    var fallback = el("div", { class: "fallback" });
    screen(kind, title, [el("p", { text: hint }), frame, status, problems, shoot, fallback]);

    function offerUpload() {
      var uploadAllowed = !selfie || cfg.sandbox;
      if (!uploadAllowed) { fallback.appendChild(notice(t("camera_denied_selfie"), "error")); document.body.classList.add("show-qr"); return; }
      fallback.appendChild(notice(t("camera_denied") + " " + t("camera_denied_upload"), "info"));
      fallback.appendChild(fileInput(kind, selfie ? t("selfie_upload_label") : t("upload_label"), "image/jpeg,image/png,image/webp", problems));
    }

    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { frame.hidden = true; shoot.hidden = true; status.textContent = ""; offerUpload(); return; }
    navigator.mediaDevices.getUserMedia({ audio: false, video: { facingMode: selfie ? "user" : "environment", width: { ideal: 1920 }, height: { ideal: 1080 } } })
      .then(function (s) {
        if (root.dataset.screen !== kind) { s.getTracks().forEach(function (tr) { tr.stop(); }); return; }
        stream = s;
        video.srcObject = s;
        return video.play().then(function () {
          status.textContent = "";
          shoot.disabled = false;
        });
      })
      .catch(function () {
        frame.hidden = true; shoot.hidden = true; status.textContent = "";
        offerUpload();
      });

    shoot.addEventListener("click", function () {
      shoot.disabled = true;
      problems.textContent = "";
      if (active) return challenge(video, frame, status, problems, shoot);
      status.textContent = t("checking_photo");
      var first = sample(video);
      // Two frames a moment apart: the second must be sharp and nearly the same as the first.
      setTimeout(function () {
        var second = sample(video), q = quality(first, second);
        root.dataset.sharpness = q.sharpness.toFixed(1);
        var problem = q.light < 35 ? "too_dark" : q.motion > 14 ? "moving" : q.sharpness < (selfie ? 15 : 40) ? "blurry" : null;
        status.textContent = "";
        if (problem) { problems.appendChild(notice(t(problem), "error")); shoot.disabled = false; return; }
        var canvas = el("canvas", { width: video.videoWidth, height: video.videoHeight });
        canvas.getContext("2d").drawImage(video, 0, 0);
        canvas.toBlob(function (blob) { preview(kind, blob); }, "image/jpeg", 0.92);
      }, 250);
    });
  }

  // ACTIVE_3D: asks the server for a challenge, shows its poses one by one for `step_ms` each
  // while taking a frame every `frame_interval_ms`, then sends every frame once. Offsets are
  // measured from when the challenge arrived, so they never run ahead of the server's clock.
  function challenge(video, frame, status, problems, shoot) {
    function fail(text) {
      status.textContent = "";
      problems.appendChild(notice(text, "error"));
      shoot.textContent = t("liveness_retry");
      shoot.hidden = false;
      shoot.disabled = false;
    }
    status.textContent = t("liveness_preparing");
    api("POST", "liveness/challenge/").then(function (answer) {
      if (answer.status === 410) return expired();
      if (answer.status !== 201) return fail(answer.status === 0 ? t("error.network") : refusal(answer));
      var ch = answer.body, started = performance.now(), frames = [], offsets = [], selfieFrame = 0, shown = -1;
      var w = Math.min(640, video.videoWidth), h = Math.round(video.videoHeight * w / video.videoWidth);
      var canvas = el("canvas", { width: w, height: h }), ctx = canvas.getContext("2d");
      var prompt = el("p", { class: "pose", id: "pose", "aria-live": "assertive" });
      frame.appendChild(prompt);
      shoot.hidden = true;
      status.textContent = "";
      root.dataset.challenge = ch.steps.join(",");
      var timer = setInterval(function () {
        var elapsed = performance.now() - started, step = Math.floor(elapsed / ch.step_ms);
        if (step >= ch.steps.length || frames.length >= ch.max_frames) { clearInterval(timer); return send(); }
        if (step !== shown) {
          shown = step;
          prompt.textContent = t("pose_" + ch.steps[step].toLowerCase());
          root.dataset.pose = ch.steps[step];
        }
        ctx.drawImage(video, 0, 0, w, h);
        // The selfie is the last frame of the opening frontal pose: settled and facing the camera.
        if (step === 0) selfieFrame = frames.length;
        offsets.push(Math.round(elapsed));
        frames.push(new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", 0.85); }));
      }, ch.frame_interval_ms);

      function send() {
        prompt.remove();
        delete root.dataset.pose;
        status.textContent = t("uploading");
        Promise.all(frames).then(function (blobs) {
          var form = new FormData();
          form.append("nonce", ch.nonce);
          form.append("offsets_ms", offsets.join(","));
          form.append("selfie_frame", String(selfieFrame));
          blobs.forEach(function (blob, i) { form.append("frames", blob, "frame-" + i + ".jpg"); });
          return api("POST", "liveness/frames/", form);
        }).then(function (answer) {
          if (answer.status === 201) {
            localUploads++;
            status.textContent = "";
            state.captures = state.captures.filter(function (c) { return c.kind !== "selfie"; }).concat([answer.body.selfie]);
            announce(t("uploaded"));
            stopCamera();
            return next("selfie");
          }
          if (answer.body && answer.body.code === "session_expired") return expired();
          fail(answer.status === 0 ? t("error.network") : refusal(answer));
        });
      }
    });
  }

  function preview(kind, blob) {
    var url = URL.createObjectURL(blob);
    var problems = el("div", { class: "problems" });
    var use = el("button", { type: "button", id: "use-photo", text: t("use_photo") });
    var again = el("button", { type: "button", class: "secondary", id: "retake", text: t("retake"), onclick: function () { URL.revokeObjectURL(url); capture(kind); } });
    screen(kind, t("preview_title"), [
      el("img", { class: "preview", src: url, alt: t("preview_alt") }),
      el("p", { text: t("preview_hint") }), problems, el("div", { class: "actions" }, [again, use]),
    ]);
    root.dataset.screen = kind + "-preview";
    use.addEventListener("click", function () {
      use.disabled = true; use.setAttribute("aria-busy", "true"); use.textContent = t("uploading");
      upload(kind, blob).then(function (error) {
        if (!error) { URL.revokeObjectURL(url); return; }
        problems.textContent = ""; problems.appendChild(notice(error, "error"));
        use.disabled = false; use.removeAttribute("aria-busy"); use.textContent = t("use_photo");
      });
    });
  }

  // Uploads a capture; resolves with null (stored, moved on) or the refusal's sentence.
  function upload(kind, blob) {
    return api("POST", "captures/" + kind + "/", blob).then(function (answer) {
      if (answer.status === 201) {
        localUploads++;
        state.captures = state.captures.filter(function (c) { return c.kind !== kind; }).concat([answer.body]);
        announce(t("uploaded"));
        next(kind);
        return null;
      }
      if (answer.status === 410) return expired();
      return answer.status === 0 ? t("error.network") : refusal(answer);
    });
  }

  function fileInput(kind, label, accept, problems) {
    var id = "file-" + kind;
    var input = el("input", { type: "file", id: id, name: kind, accept: accept });
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      if (!file) return;
      problems.textContent = "";
      input.disabled = true;
      var sending = el("p", { class: "note", role: "status", text: t("uploading") });
      problems.appendChild(sending);
      upload(kind, file).then(function (error) {
        if (!error) return;
        problems.textContent = "";
        problems.appendChild(notice(error, "error"));
        input.disabled = false;
        input.value = "";
        input.setAttribute("aria-invalid", "true");
      });
    });
    return el("div", { class: "upload" }, [el("label", { for: id, text: label }), input]);
  }

  function proofOfAddress() {
    var problems = el("div", { class: "problems" });
    screen("poa_document", t("poa_title"), [
      el("p", { text: t("poa_hint") }), problems,
      fileInput("poa_document", t("poa_label"), "image/jpeg,image/png,image/webp,application/pdf", problems),
    ]);
  }

  function review() {
    var problems = el("div", { class: "problems" });
    var send = el("button", { type: "button", id: "submit", text: t("submit") });
    screen("submit", t("submit_title"), [el("p", { text: t("submit_intro") }), problems, send]);
    send.addEventListener("click", function () {
      send.disabled = true; send.setAttribute("aria-busy", "true");
      api("POST", "submit/").then(function (answer) {
        if (answer.status === 202 || answer.status === 200) {
          submitted = true;
          remember("completer");
          processing(false);
          return;
        }
        if (answer.status === 410) return expired();
        problems.textContent = "";
        problems.appendChild(notice(answer.status === 0 ? t("error.network") : refusal(answer), "error"));
        send.disabled = false; send.removeAttribute("aria-busy");
      });
    });
  }

  var elsewhere = false;
  function processing(otherDevice) {
    clearInterval(follow);
    elsewhere = otherDevice;
    hideQr();
    var text = el("p", { id: "processing-text", text: t("processing") });
    screen("processing", t("processing_title"), [
      elsewhere ? el("p", { class: "note", text: t("phone_took_over") }) : null,
      el("div", { class: "spinner", "aria-hidden": "true" }), text,
    ]);
    announce(t("processing"));
    var waitingShown = false;
    function poll() {
      api("GET", "status/").then(function (answer) {
        if (answer.status === 410) return expired();
        if (answer.status === 200) {
          var s = answer.body;
          if (s.decided) return result(s);
          if (s.processing && s.processing.state === "waiting_for_engine" && !waitingShown) {
            waitingShown = true;
            root.dataset.processing = "waiting_for_engine";
            text.textContent = t("processing_waiting");
            announce(text.textContent);
          }
        }
        follow = setTimeout(poll, 1500);
      });
    }
    poll();
  }

  function result(s) {
    var tone = s.status === "Approved" ? "ok" : s.status === "Declined" ? "error" : "info";
    var method = state.callback_method;
    var redirect = s.callback_url && (method === "both" ||
      (method === "initiator" && (initiatorHere || remembered("initiator"))) ||
      (method === "completer" && (submitted || remembered("completer"))));
    // Only web callbacks are followed unprompted. A custom scheme (allowed only when the
    // application registered it) opens another program: the person starts it with the button.
    var autoRedirect = redirect && /^https?:$/.test(new URL(s.callback_url).protocol);
    screen("result", t("result_title"), [
      elsewhere ? el("p", { class: "note", text: t("phone_took_over") }) : null,
      el("p", { class: "notice " + tone, role: "status", id: "result", "data-status": s.status, text: t("result." + s.status) }),
      autoRedirect ? el("p", { text: t("redirecting") }) : el("p", { text: t("close") }),
      redirect ? el("a", { class: "button", href: s.callback_url, text: t("back_to") }) : null,
    ]);
    root.dataset.status = s.status;
    announce(t("result." + s.status));
    if (autoRedirect) setTimeout(function () { window.location.assign(s.callback_url); }, 4000);
  }

  function expired() {
    hideQr();
    screen("expired", t("expired_title"), [notice(t("expired"), "error")]);
    return t("expired");
  }

  function failed(answer) {
    screen("error", t("title"), [
      notice(answer.status === 0 ? t("error.network") : refusal(answer), "error"),
      el("button", { type: "button", text: t("retry"), onclick: load }),
    ]);
  }

  // ---- start ------------------------------------------------------------------------------
  function load() {
    api("GET", "").then(function (answer) {
      if (answer.status === 410) return expired();
      if (answer.status !== 200) return failed(answer);
      var before = answer.body.status;
      var opening = before === "Not Started" || before === "Resubmitted";
      return (opening ? api("POST", "start/") : Promise.resolve(answer)).then(function (answer) {
        if (answer.status === 410) return expired();
        if (answer.status !== 200) return failed(answer);
        state = answer.body;
        if (before === "Not Started") { initiatorHere = true; remember("initiator"); }
        buildPlan();
        if (state.processing || ["Approved", "Declined", "In Review"].indexOf(state.status) >= 0) return processing(false);
        if (state.status === "Abandoned") return screen("abandoned", t("abandoned_title"), [notice(t("abandoned"), "error")]);
        if (state.status !== "In Progress") return failed({ status: 409, body: { code: "session_not_in_progress" } });
        if (navigator.mediaDevices && navigator.mediaDevices.enumerateDevices) {
          navigator.mediaDevices.enumerateDevices().then(function (devices) {
            if (!devices.some(function (d) { return d.kind === "videoinput"; })) {
              document.body.classList.add("show-qr");
              if (root.dataset.screen === "welcome") root.insertBefore(notice(t("no_camera_desktop"), "info"), root.querySelector("h2"));
            }
          }, function () { /* no device list: the capture step will offer the fallback */ });
        }
        welcome();
        followOtherDevice();
      });
    });
  }
  load();
})();
