import { describe, expect, it } from "vitest";
import { authorizeUrl } from "./Consent";

describe("the consent page", () => {
  it("passes on the OAuth request's own parameters and nothing else", () => {
    const url = authorizeUrl("?response_type=code&client_id=xinex-mobile&redirect_uri=xinex%3A%2F%2Fcb&code_challenge=abc&code_challenge_method=S256&state=s1&evil=1");
    expect(url.startsWith("/oauth/authorize?")).toBe(true);
    const q = new URLSearchParams(url.split("?")[1]);
    expect(q.get("client_id")).toBe("xinex-mobile");
    expect(q.get("redirect_uri")).toBe("xinex://cb");
    expect(q.get("code_challenge_method")).toBe("S256");
    expect(q.get("evil")).toBeNull();
  });
});
