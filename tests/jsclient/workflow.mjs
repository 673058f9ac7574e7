// A notebook workflow driven by @jupyterlab/services, the library JupyterLab and
// Notebook 7 use in the browser to talk to a Jupyter server (REST + kernel WebSocket).
// Usage: node workflow.mjs <base url> <token>. Prints one JSON object of observations;
// the Python test asserts on them. Any failure exits non-zero with the error.
import {
  ConfigSection,
  ContentsManager,
  KernelManager,
  KernelSpecManager,
  ServerConnection,
  SessionManager,
} from "@jupyterlab/services";
import WebSocket from "ws";

const [baseUrl, token] = process.argv.slice(2);
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

async function execute(kernel, code, { onStdin } = {}) {
  const future = kernel.requestExecute({ code, allow_stdin: Boolean(onStdin) });
  const streams = [];
  const types = [];
  future.onIOPub = (msg) => {
    types.push(msg.header.msg_type);
    if (msg.header.msg_type === "stream") streams.push(msg.content.text);
  };
  if (onStdin) {
    future.onStdin = (msg) => {
      types.push(msg.header.msg_type);
      onStdin(future, msg);
    };
  }
  const reply = await withTimeout(future.done, `execute ${code} (saw ${types.join(", ")})`);
  return { status: reply.content.status, streams: streams.join(""), types };
}

const result = {};
// UserManager itself needs the browser's localStorage: make its request by hand.
const me = await ServerConnection.makeRequest(
  `${baseUrl}api/me?permissions=${encodeURIComponent('{"contents":["read","write"]}')}`,
  {},
  serverSettings,
);
const identity = await me.json();
result.username = identity.identity.username;
result.permissions = identity.permissions;

const config = await ConfigSection.create({ name: "notebook", serverSettings });
await config.update({ Cell: { cm_config: { lineNumbers: true } } });
await config.update({ Cell: { cm_config: { lineWrapping: true } } });
const reread = await ConfigSection.create({ name: "notebook", serverSettings });
result.config = reread.data;

const specs = new KernelSpecManager({ serverSettings });
await withTimeout(specs.ready, "kernelspecs");
result.defaultSpec = specs.specs.default;
result.specNames = Object.keys(specs.specs.kernelspecs);

const contents = new ContentsManager({ serverSettings });
const untitled = await contents.newUntitled({ type: "notebook" });
result.untitledPath = untitled.path;
const notebook = {
  cells: [
    {
      cell_type: "code",
      source: "print('hello from lab')",
      metadata: {},
      outputs: [],
      execution_count: null,
    },
  ],
  metadata: {},
  nbformat: 4,
  nbformat_minor: 5,
};
await contents.save(untitled.path, { type: "notebook", format: "json", content: notebook });

const kernelManager = new KernelManager({ serverSettings });
const sessions = new SessionManager({ kernelManager, serverSettings });
const session = await withTimeout(
  sessions.startNew({
    path: untitled.path,
    name: untitled.name,
    type: "notebook",
    kernel: { name: "python3" },
  }),
  "session start",
);
const kernel = session.kernel;
const info = await withTimeout(kernel.info, "kernel info");
result.language = info.language_info.name;

const run = await execute(kernel, "print('hello from lab')");
result.executeStatus = run.status;
result.executeStreams = run.streams;
result.executeTypes = run.types;

const stdin = await execute(kernel, "name = input('who? ')\nprint('hi ' + name)", {
  onStdin: (future, msg) => {
    result.stdinPrompt = msg.content.prompt;
    future.sendInputReply({ status: "ok", value: "ada" }, msg.header);
  },
});
result.stdinStreams = stdin.streams;

// Save the outputs the way the frontend does: the notebook model with outputs.
notebook.cells[0].outputs = [{ output_type: "stream", name: "stdout", text: run.streams }];
notebook.cells[0].execution_count = 1;
await contents.save(untitled.path, { type: "notebook", format: "json", content: notebook });
const saved = await contents.get(untitled.path);
result.savedOutputs = saved.content.cells[0].outputs;

await withTimeout(kernel.restart(), "restart");
const afterRestart = await execute(kernel, "print('name' in globals())");
result.afterRestart = afterRestart.streams;

const renamed = "renamed-by-lab.ipynb";
await contents.rename(untitled.path, renamed);
await session.setPath(renamed);
const listed = await sessions.findByPath(renamed);
result.sessionPathAfterRename = listed ? listed.path : null;

const checkpoint = await contents.createCheckpoint(renamed);
result.checkpoints = (await contents.listCheckpoints(renamed)).map((c) => c.id);
result.checkpointId = checkpoint.id;

await withTimeout(session.shutdown(), "session shutdown");
await sessions.refreshRunning();
result.sessionsAfterShutdown = Array.from(sessions.running()).length;
await kernelManager.refreshRunning();
result.kernelsAfterShutdown = Array.from(kernelManager.running()).length;
await contents.delete(renamed);
result.deleted = !(await contents.get("").then((dir) => dir.content.some((m) => m.path === renamed)));

sessions.dispose();
kernelManager.dispose();
console.log(JSON.stringify(result));
process.exit(0);
