// Reads a JSON array of texts on stdin; writes, for each, twitter-text's parseTweet result and its URLs with
// indices (UTF-16 code units, as the library gives them). Used by tests/render/oracle.py.
"use strict";
const twttr = require("twitter-text");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const texts = JSON.parse(input);
  const out = texts.map((text) => ({
    parse: twttr.parseTweet(text),
    urls: twttr.extractUrlsWithIndices(text),
    hashtags: twttr.extractHashtags(text),
  }));
  process.stdout.write(JSON.stringify(out));
});
