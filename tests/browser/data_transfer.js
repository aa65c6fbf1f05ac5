// Drives the data-transfer consent page end to end in Chromium:
//   node data_transfer.js <base_url> <json>
// where json is {url, email, answer: "consent" | "refuse", expect: [texts shown for review],
// pictures: n, artifacts: dir}. Codes come from the parent (ASK code-wrong / ASK code).
"use strict";

const path = require("path");
const { launch, shoot, ask, check, checkAccessibility, submit, finish, PHONE } = require("./lib");

const [base, spec] = process.argv.slice(2);
const options = JSON.parse(spec);
check(options.url.startsWith(base), `${options.url} is not under ${base}`);
const dir = options.artifacts;
const step = (n, name) => `${options.answer}-${n}-${name}`;

finish(async () => {
  const browser = await launch();
  try {
    const context = await browser.newContext({ viewport: PHONE, locale: "en-GB" });
    const page = await context.newPage();
    const failures = [];
    // Documents answer 4xx on purpose (a wrong code); any other failed load or console error
    // (a CSP violation, a missing asset) is a bug.
    page.on("console", (m) => {
      if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) failures.push(m.text());
    });
    page.on("response", (r) => {
      if (r.status() >= 400 && r.request().resourceType() !== "document") failures.push(`${r.status()} ${r.url()}`);
    });
    page.on("pageerror", (e) => failures.push(String(e)));

    // 1. The link: who asks, the e-mail form; the QR code only on wide screens.
    let response = await page.goto(options.url);
    check(response.status() === 200, `page answered ${response.status()}`);
    const headers = response.headers();
    check(headers["content-security-policy"].includes("frame-ancestors 'none'"), "CSP");
    check(headers["cache-control"] === "no-store", "no-store");
    check((await page.textContent("main")).includes(options.organization), "organization shown");
    await checkAccessibility(page);
    check(!(await page.isVisible("aside .qr svg")), "QR hidden on a phone");
    await page.setViewportSize({ width: 1280, height: 800 });
    check(await page.isVisible("aside .qr svg"), "QR shown on a desktop");
    await page.setViewportSize(PHONE);
    await shoot(page, dir, step(1, "email"));

    // 2. Ask for a code.
    await page.fill("#email", options.email);
    response = await submit(page, "form button[type=submit]");
    check(response.status() === 200, `after the e-mail: ${response.status()}`);
    check(await page.isVisible("#code"), "code form shown");
    await checkAccessibility(page);
    await shoot(page, dir, step(2, "code"));

    // 3. A wrong code is refused with a clear message and the form again.
    await page.fill("#code", await ask("code-wrong"));
    response = await submit(page, "form button[type=submit]");
    check(response.status() === 400, `wrong code answered ${response.status()}`);
    check(await page.isVisible(".notice.error"), "error shown");
    check(await page.evaluate(() => document.activeElement.classList.contains("error")), "focus on the error");
    await shoot(page, dir, step(3, "wrong-code"));

    // 4. The right code: the review shows exactly what will be shared.
    await page.fill("#code", await ask("code"));
    response = await submit(page, "form button[type=submit]");
    check(response.status() === 200, `right code answered ${response.status()}`);
    check(await page.isVisible(".scopes"), "review shown");
    const review = await page.textContent(".scopes");
    for (const text of options.expect) check(review.includes(text), `review lacks ${text}`);
    for (const text of options.absent || []) check(!review.includes(text), `review shows ${text}`);
    const headings = await page.$$eval(".scopes h2", (hs) => hs.map((h) => h.textContent));
    check(JSON.stringify(headings) === JSON.stringify(options.headings), `scopes shown: ${headings}`);
    const loaded = await page.$$eval(".pictures img", (imgs) => imgs.filter((i) => i.complete && i.naturalWidth > 0).length);
    check(loaded === options.pictures, `${loaded} pictures shown, expected ${options.pictures}`);
    await checkAccessibility(page);
    await shoot(page, dir, step(4, "review"));

    // 5. Consent or refuse.
    response = await submit(page, `button[value=${options.answer}]`);
    check(response.status() === 200, `answer: ${response.status()}`);
    const tone = options.answer === "consent" ? ".notice.ok" : ".notice.info";
    check(await page.isVisible(tone), `final ${tone} shown`);
    await shoot(page, dir, step(5, "done"));

    check(failures.length === 0, `browser errors: ${failures.join("; ")}`);
  } finally {
    await browser.close();
  }
});
