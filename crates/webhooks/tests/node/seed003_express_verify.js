// Runs seed 003's verifyWebhook (see seed003_step5.js) against requests that the Rust signer
// produced. Only node's built-in `crypto` is needed.
//
// Usage: node seed003_express_verify.js CASES.json   → prints {"results":[{name, ok}]}
const fs = require("fs");
const { verifyWebhook } = require("./seed003_step5.js");
const cases = JSON.parse(fs.readFileSync(process.argv[2], "utf8")).cases;
const results = cases.map((c) => ({
  name: c.name,
  ok: verifyWebhook(c.body, c.headers["X-Signature-V2"], c.headers["X-Timestamp"], c.secret),
}));
console.log(JSON.stringify({ results }));
