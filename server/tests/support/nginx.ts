import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { freePort, tempDir, waitFor } from "./services";
import { PROJECT_ROOT, startServerProcess, type ServerProcess } from "./server-process";

export const NGINX_CONFIG = path.join(PROJECT_ROOT, "docs/deploy/nginx.conf");

export function nginxAvailable(): boolean {
  try {
    execFileSync("nginx", ["-v"], { stdio: "ignore" });
    return true;
  } catch {
    const message = "nginx is not installed: the load-balancer suite DID NOT RUN. Install it with: apt-get install -y nginx";
    if (process.env.CI === "true") throw new Error(message);
    console.warn(`\n${"!".repeat(100)}\n!! ${message}\n${"!".repeat(100)}\n`);
    return false;
  }
}

/**
 * A cluster of nodes behind nginx running the documented config (docs/deploy/nginx.conf), with the
 * config's example ports replaced by the test's. `url` is nginx's.
 */
export async function startBehindNginx(nodes = 3): Promise<ServerProcess> {
  const cluster = await startServerProcess({ database: "postgres", redis: true, nodes });
  const port = await freePort();
  const prefix = tempDir("sb-nginx");
  // nginx's workers run as an unprivileged user and spool large request bodies to these directories.
  fs.chmodSync(prefix, 0o755);
  for (const dir of ["body", "proxy", "fastcgi", "uwsgi", "scgi"]) fs.mkdirSync(path.join(prefix, dir), { mode: 0o777 });
  for (const dir of ["body", "proxy", "fastcgi", "uwsgi", "scgi"]) fs.chmodSync(path.join(prefix, dir), 0o777);
  const upstreams = cluster.nodes.map((n) => `    server ${new URL(n.url).host};`).join("\n");
  const config = fs
    .readFileSync(NGINX_CONFIG, "utf8")
    .replace(/(upstream switchboard \{\n(?:.*\n)*?)((?:\s*server 127\.0\.0\.1:\d+;\n)+)/, (_, head: string) => `${head}${upstreams}\n`)
    .replace(/listen 8080;/, `listen 127.0.0.1:${port};`)
    .replace(/^worker_processes auto;/m, `worker_processes 1;\npid ${prefix}/nginx.pid;\nerror_log ${prefix}/error.log;`)
    .replace(/http \{/, `http {\n  access_log off;\n  client_body_temp_path ${prefix}/body;\n  proxy_temp_path ${prefix}/proxy;\n  fastcgi_temp_path ${prefix}/fastcgi;\n  uwsgi_temp_path ${prefix}/uwsgi;\n  scgi_temp_path ${prefix}/scgi;`);
  if (!config.includes(upstreams)) throw new Error("could not put the test's nodes into docs/deploy/nginx.conf");
  const file = path.join(prefix, "nginx.conf");
  fs.writeFileSync(file, config);
  const nginx = spawn("nginx", ["-p", prefix, "-c", file, "-g", "daemon off;"], { stdio: ["ignore", "ignore", "pipe"] });
  let errors = "";
  nginx.stderr!.on("data", (d: Buffer) => (errors += d));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => {
      if (nginx.exitCode !== null) throw new Error("nginx exited");
      return fetch(`${url}/api/v1/health`).then((r) => r.ok, () => false);
    }, "nginx to answer GET /api/v1/health", 10_000);
  } catch (err) {
    nginx.kill("SIGKILL");
    await cluster.stop();
    throw new Error(`nginx did not start (${(err as Error).message}): ${errors}`, { cause: err });
  }
  return {
    ...cluster,
    url,
    stop: async () => {
      await new Promise<void>((resolve) => {
        nginx.once("exit", () => resolve());
        nginx.kill("SIGQUIT");
      });
      return cluster.stop();
    },
  };
}
