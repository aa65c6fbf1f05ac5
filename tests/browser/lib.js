// Shared helpers for Verity's browser tests: Debian's system Chromium driven by playwright-core
// (no browser download), screenshots at a phone and a desktop size, and a line protocol over
// stdin/stdout through which the Rust test that started the script answers questions (such as
// the code a real SMTP server received).
"use strict";

const fs = require("fs");
const path = require("path");
const readline = require("readline");
const { chromium } = require("playwright-core");

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

/** Debian's Chromium (or VERITY_CHROMIUM), with `extraArgs` such as fake-camera flags. */
async function launch(extraArgs = []) {
  const executablePath = process.env.VERITY_CHROMIUM || "/usr/bin/chromium";
  return chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-gpu", ...extraArgs] });
}

/** Screenshots the page as it is at both sizes, then returns to the phone size. */
async function shoot(page, dir, name) {
  fs.mkdirSync(dir, { recursive: true });
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: path.join(dir, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: path.join(dir, `${name}-phone.png`), fullPage: true });
}

/** Asks the parent process a question on stdout and resolves with its one-line answer. */
const input = readline.createInterface({ input: process.stdin });
const answers = [];
const waiting = [];
input.on("line", (line) => {
  const next = waiting.shift();
  if (next) next(line.trim());
  else answers.push(line.trim());
});
function ask(question) {
  process.stdout.write(`ASK ${question}\n`);
  return new Promise((resolve) => {
    if (answers.length) resolve(answers.shift());
    else waiting.push(resolve);
  });
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** Every form control has a label, and the page declares its language. */
async function checkAccessibility(page) {
  const problems = await page.evaluate(() => {
    const out = [];
    if (!document.documentElement.lang) out.push("html has no lang");
    document.querySelectorAll("input:not([type=hidden])").forEach((el) => {
      if (!el.id || !document.querySelector(`label[for="${el.id}"]`)) out.push(`input ${el.name} has no label`);
    });
    document.querySelectorAll("img").forEach((el) => {
      if (!el.getAttribute("alt")) out.push(`img ${el.src} has no alt`);
    });
    document.querySelectorAll("button").forEach((el) => {
      if (!el.textContent.trim()) out.push("button without text");
    });
    return out;
  });
  check(problems.length === 0, `accessibility: ${problems.join("; ")}`);
}

/** Clicks and waits for the navigation it causes; resolves with the final response. */
async function submit(page, selector) {
  const [response] = await Promise.all([page.waitForNavigation(), page.click(selector)]);
  return response;
}

function finish(run) {
  run()
    .then(() => {
      process.stdout.write("DONE\n");
      process.exit(0);
    })
    .catch((error) => {
      process.stderr.write(`${error.stack || error}\n`);
      process.exit(1);
    });
}

module.exports = { launch, shoot, ask, check, checkAccessibility, submit, finish, PHONE, DESKTOP };
