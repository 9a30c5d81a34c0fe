// Imported first by server/main.ts and every CLI: the `.env` file (or ENV_FILE) is in process.env
// before any module reads the configuration. See server/env-file.ts.
import { loadEnvFile } from "./env-file";

try {
  loadEnvFile();
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
