import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import type { Role } from "../../lib/protocol";
import type { PrismaClient } from "../db/client";
import type { Principal } from "../channels/subscriber";
import { SwitchboardError } from "../channels/errors";

export const hashToken = (token: string) => createHash("sha256").update(token).digest("hex");

/** `sb_<role>_<32 random url-safe characters>`: the prefix tells a leaked token's role at a glance. */
export const generateToken = (role: Role) => `sb_${role}_${randomBytes(24).toString("base64url")}`;

/**
 * The bootstrap admin token: ADMIN_TOKEN when set, else the one kept in DATA_DIR/admin-token, else a
 * new one written there (mode 0600). `created` says whether to print it.
 */
export async function loadOrCreateAdminToken(envToken: string | undefined, dataDir: string) {
  if (envToken) return { token: envToken, created: false };
  const file = path.resolve(dataDir, "admin-token");
  const existing = (await fs.readFile(file, "utf8").catch(() => "")).trim();
  if (existing) return { token: existing, created: false };
  const token = generateToken("admin");
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, `${token}\n`, { mode: 0o600 });
  return { token, created: true };
}

interface CacheEntry {
  principal: Principal | null;
  expires: number;
}

/**
 * Turns a presented token into a principal. Stored tokens are looked up by hash; results (including
 * misses, briefly) are cached in a bounded map so a busy socket server does not query per handshake.
 */
export class TokenVerifier {
  private cache = new Map<string, CacheEntry>();
  private readonly bootstrapHash: Buffer;

  constructor(
    private readonly prisma: PrismaClient,
    bootstrapToken: string,
    private readonly options = { maxEntries: 10_000, ttlMs: 30_000, missTtlMs: 5_000 },
  ) {
    this.bootstrapHash = Buffer.from(hashToken(bootstrapToken), "hex");
  }

  async verify(token: string | undefined | null): Promise<Principal | null> {
    if (!token || token.length > 256) return null;
    const hash = hashToken(token);
    if (timingSafeEqual(Buffer.from(hash, "hex"), this.bootstrapHash)) return { role: "admin", tokenId: "bootstrap" };
    const now = Date.now();
    const cached = this.cache.get(hash);
    if (cached && cached.expires > now) return cached.principal;
    const row = await this.prisma.apiToken.findUnique({ where: { hash } }).catch((err: unknown) => {
      throw new SwitchboardError("unavailable", "Cannot check the token: the database is unavailable. Retry shortly.", { retryAfterSeconds: 2, cause: err });
    });
    const principal = row && !row.revokedAt ? { role: row.role as Role, tokenId: row.id } : null;
    this.remember(hash, { principal, expires: now + (principal ? this.options.ttlMs : this.options.missTtlMs) });
    return principal;
  }

  private remember(hash: string, entry: CacheEntry) {
    this.cache.delete(hash);
    if (this.cache.size >= this.options.maxEntries) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(hash, entry);
  }
}

export async function createStoredToken(prisma: PrismaClient, role: Role, name: string) {
  const token = generateToken(role);
  const row = await prisma.apiToken.create({ data: { name, role, hash: hashToken(token) } });
  return { id: row.id, token };
}
