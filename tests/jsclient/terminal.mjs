// A terminal driven by @jupyterlab/services' TerminalManager, as JupyterLab drives one:
// start it in a folder, size it, type a command, read the echo, exit. Usage:
// node terminal.mjs <base url> <token>. Prints one JSON object of observations.
import { PageConfig } from "@jupyterlab/coreutils";
import { ServerConnection, TerminalManager } from "@jupyterlab/services";
import WebSocket from "ws";

const [baseUrl, token] = process.argv.slice(2);
// In the browser this comes from the page config the server renders.
PageConfig.setOption("terminalsAvailable", "true");
const serverSettings = ServerConnection.makeSettings({
  baseUrl,
  wsUrl: baseUrl.replace(/^http/, "ws"),
  token,
  appendToken: true,
  WebSocket,
});

function withTimeout(promise, what, ms = 60000) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const result = {};
const manager = new TerminalManager({ serverSettings });
await manager.ready;
const session = await manager.startNew({ cwd: "sub" });
result.name = session.name;
let output = "";
const messages = [];
const seen = (needle) =>
  new Promise((resolve) => {
    const check = () => output.includes(needle) && resolve();
    session.messageReceived.connect((_, msg) => {
      messages.push(msg.type);
      if (msg.type === "stdout") output += msg.content[0];
      check();
    });
    check();
  });
session.send({ type: "set_size", content: [40, 120, 400, 800] });
session.send({
  type: "stdin",
  content: ["echo lab-$((6*7))-$(stty size | tr ' ' x)-$(basename $(pwd))\r"],
});
await withTimeout(seen("lab-42-40x120-sub"), "the echo");
result.echoed = true;
await manager.refreshRunning();
result.running = [...manager.running()].map((model) => model.name);
// On ["disconnect", ...] the connection disposes of itself (the UI then closes the tab).
const ended = new Promise((resolve) => session.disposed.connect(() => resolve()));
session.send({ type: "stdin", content: ["exit\r"] });
await withTimeout(ended, "the disconnect after exit");
result.messageTypes = [...new Set(messages)].sort();
await manager.refreshRunning();
result.runningAfterExit = [...manager.running()].length;
console.log(JSON.stringify(result));
process.exit(0);
