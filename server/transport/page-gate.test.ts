import type { IncomingMessage, ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import type { TokenVerifier } from "../auth/tokens";
import { createPageGate } from "./page-gate";

const verifier = {
  verify: async (token: string | undefined) => (token === "good" ? { role: "viewer", tokenId: "t" } : null),
} as unknown as TokenVerifier;

function fakeRes() {
  const res = {
    status: 0,
    headers: {} as Record<string, string>,
    writeHead(status: number, headers: Record<string, string>) {
      res.status = status;
      res.headers = headers;
      return res;
    },
    end() {
      return res;
    },
  };
  return res;
}

const gate = createPageGate(verifier);
const pass = async (url: string, cookie?: string) => {
  const res = fakeRes();
  const passed = await gate({ url, headers: cookie === undefined ? {} : { cookie } } as IncomingMessage, res as unknown as ServerResponse);
  return { passed, res };
};

describe("page gate", () => {
  it("lets a valid session through and sends everyone else to /login with where they were going", async () => {
    expect((await pass("/agents", "sb_session=good")).passed).toBe(true);
    const { passed, res } = await pass("/agents?x=1");
    expect(passed).toBe(false);
    expect(res).toMatchObject({ status: 302, headers: { Location: "/login?next=%2Fagents%3Fx%3D1" } });
    expect((await pass("/login")).passed).toBe(true);
  });

  it.each(["sb_session=%ZZ", "sb_session=%", "sb_session=%E0%A4%A", "sb_session=%00"])("treats the malformed session cookie %s as none: /login, not an error", async (cookie) => {
    const { passed, res } = await pass("/tasks", cookie);
    expect(passed).toBe(false);
    expect(res.status).toBe(302);
    expect(res.headers.Location).toBe("/login?next=%2Ftasks");
  });

  it("still finds a good session cookie after a malformed one", async () => {
    expect((await pass("/tasks", "sb_session=%ZZ; sb_session=good")).passed).toBe(true);
  });

  it("refuses a request target that is not a URL with invalid_request, never a crash", async () => {
    await expect(pass("http://[", "sb_session=good")).rejects.toMatchObject({ code: "invalid_request" });
  });
});
