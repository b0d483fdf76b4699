// Parse Adaptive Cards with Microsoft's `adaptivecards` package, as a Teams client would.
// Reads [{label, card}] as JSON on stdin; writes [{label, problems}] for the cards with any
// parse event (unknown element or action, bad value, unsupported version…) or validation
// failure. Targets Adaptive Cards 1.5, the version Teams renders.
//
// The package's lib/ is ES modules written for bundlers (imports without extensions), so
// Node loads its UMD bundle; parsing needs no DOM, only rendering would.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const require = createRequire(import.meta.url);
const AC = require("adaptivecards/dist/adaptivecards.js");

function problems(json) {
  const found = [];
  const card = new AC.AdaptiveCard();
  const context = new AC.SerializationContext(AC.Versions.v1_5);
  card.parse(json, context);
  for (let i = 0; i < context.eventCount; i++) {
    const event = context.getEventAt(i);
    found.push(`parse: ${AC.ValidationEvent[event.event]}: ${event.message}`);
  }
  for (const event of card.validateProperties().validationEvents) {
    found.push(`validate: ${AC.ValidationEvent[event.event]}: ${event.message}`);
  }
  return found;
}

const cards = JSON.parse(readFileSync(0, "utf8"));
const report = cards
  .map(({ label, card }) => ({ label, problems: problems(card) }))
  .filter((r) => r.problems.length > 0);
process.stdout.write(JSON.stringify({ parsed: cards.length, report }));
