// Drives a WebSocket client (npm "ws") against a push stream websocket
// location: receives a message published over HTTP, publishes a text frame
// and receives it back, then receives the server's close at TTL. Prints a
// JSON report on stdout.
import WebSocket from "ws";

const [base, channel] = process.argv.slice(2);
const received = [];
const ws = new WebSocket(`${base.replace("http", "ws")}/ws/${channel}`);
setTimeout(() => {
  console.log(JSON.stringify({ error: "timeout", received }));
  process.exit(0);
}, 20000);

ws.on("open", async () => {
  const res = await fetch(`${base}/pub?id=${channel}`, { method: "POST", body: "from http" });
  if (res.status !== 200) throw new Error(`publish status ${res.status}`);
});
ws.on("message", (data) => {
  received.push(data.toString());
  if (received.length === 1) ws.send("from websocket");
});
ws.on("close", (code) => {
  console.log(JSON.stringify({ received, closeCode: code }));
  process.exit(0);
});
