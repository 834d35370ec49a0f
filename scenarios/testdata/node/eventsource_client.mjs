// Drives a WHATWG EventSource (npm "eventsource") against a push stream
// eventsource location: receives published messages with their ids and
// event types, lets the server end the stream (subscriber TTL), and checks
// that the automatic reconnection resumes from Last-Event-ID without loss
// or duplicates. Prints a JSON report on stdout.
import { EventSource } from "eventsource";

const [base, channel] = process.argv.slice(2);
const publish = (text, id) =>
  fetch(`${base}/pub?id=${channel}`, {
    method: "POST",
    headers: { "Event-Id": id, "Event-Type": "note" },
    body: text,
  }).then((res) => {
    if (res.status !== 200) throw new Error(`publish status ${res.status}`);
  });

const received = [];
let opens = 0;
let errors = 0;
const es = new EventSource(`${base}/ev/${channel}`);
const done = (report) => {
  es.close();
  console.log(JSON.stringify(report));
  process.exit(0);
};
setTimeout(() => done({ error: "timeout", received, opens, errors }), 20000);

es.onopen = async () => {
  opens++;
  if (opens === 1) {
    await publish("first", "1");
    await publish("second", "2");
  }
};
es.onerror = async () => {
  errors++;
  // The server ended the stream (TTL); publish while we are away.
  if (errors === 1) await publish("while away", "3");
};
es.addEventListener("note", (ev) => {
  received.push({ data: ev.data, id: ev.lastEventId, type: ev.type });
  if (received.length === 3) done({ received, opens, errors });
});
