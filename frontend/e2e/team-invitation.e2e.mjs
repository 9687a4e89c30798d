// An admin invites a teammate who accepts; sign-in with a password; forgot/reset password; API tokens shown once.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { assertAccessible, launch, linkIn, newPage, screenshot, signUp, uniqueEmail, waitForMail } from "./harness.mjs";

let chrome;
before(async () => { chrome = await launch(); });
after(async () => { await chrome?.close(); });

test("an admin invites a teammate, who signs up, accepts and signs in again after a password reset", async () => {
  const owner = await newPage(chrome.browser);
  const ownerEmail = uniqueEmail("admin");
  const mateEmail = uniqueEmail("mate");
  await signUp(owner.page, { name: "Ada Admin", email: ownerEmail, password: "correct horse battery staple", team: "Platform" });

  await owner.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
  await owner.page.getByRole("heading", { name: "Members" }).waitFor();
  await owner.page.getByLabel("E-mail to invite", { exact: true }).fill(mateEmail);
  await owner.page.getByLabel("Role", { exact: true }).selectOption("admin");
  await owner.page.getByRole("button", { name: "Send invitation" }).click();
  await owner.page.getByText(`Invitation sent to ${mateEmail}`).waitFor();
  await owner.page.getByRole("row", { name: new RegExp(`${mateEmail}.*admin.*pending`) }).waitFor();
  await assertAccessible(owner.page, "settings: team");
  await screenshot(owner.page, "team");

  // API tokens: the secret is shown once.
  await owner.page.getByRole("link", { name: "API tokens" }).click();
  await owner.page.getByLabel("Token name", { exact: true }).fill("backup server");
  await owner.page.getByRole("button", { name: "Create token" }).click();
  const secret = (await owner.page.getByLabel("New API token").textContent()).trim();
  assert.match(secret, /^xinex_[0-9a-f]{64}$/);
  await owner.page.getByRole("row", { name: /backup server.*heartbeats:write/ }).waitFor();
  await assertAccessible(owner.page, "settings: tokens");
  const check = await fetch(new URL("/api/v1/heartbeats", owner.page.url()), { headers: { Authorization: `Bearer ${secret}` } });
  assert.equal(check.status, 200);
  await owner.page.reload();
  await owner.page.getByRole("row", { name: /backup server/ }).waitFor();
  assert.equal(await owner.page.getByText(secret).count(), 0, "the secret must not be shown again");

  // The teammate opens the invitation before having an account: sign up first, then the link again.
  const invitation = await waitForMail(mateEmail, /invit/i);
  const link = linkIn(invitation, "/invitations/accept");
  const mate = await newPage(chrome.browser);
  await mate.page.goto(link);
  await mate.page.getByRole("link", { name: "Create an account" }).waitFor();
  await assertAccessible(mate.page, "accept invitation (signed out)");
  await signUp(mate.page, { name: "Max Mate", email: mateEmail, password: "another long passphrase" });
  await mate.page.goto(link);
  await mate.page.getByRole("button", { name: "Accept invitation" }).click();
  await mate.page.getByText("You joined Platform as admin").waitFor();
  await mate.page.getByRole("button", { name: "Open Platform" }).click();
  await mate.page.getByRole("link", { name: "Settings" }).click();
  await mate.page.getByRole("row", { name: /Ada Admin/ }).waitFor();
  await mate.page.getByRole("row", { name: /Max Mate \(you\)/ }).waitFor();

  // Sign out, forget the password, reset it by e-mail, sign in with the new one.
  await mate.page.getByRole("button", { name: "Sign out" }).click();
  await mate.page.getByRole("heading", { name: "Sign in" }).waitFor();
  await assertAccessible(mate.page, "sign in");
  await screenshot(mate.page, "login");
  await mate.page.getByLabel("E-mail", { exact: true }).fill(mateEmail);
  await mate.page.getByLabel("Password", { exact: true }).fill("not the password");
  await mate.page.getByRole("button", { name: "Sign in", exact: true }).click();
  await mate.page.getByRole("alert").waitFor();
  await mate.page.getByRole("link", { name: "Forgot your password?" }).click();
  await mate.page.getByLabel("E-mail", { exact: true }).fill(mateEmail);
  await mate.page.getByRole("button", { name: "Send reset link" }).click();
  await mate.page.getByText(/we sent it a link/).waitFor();
  const reset = await waitForMail(mateEmail, /Reset your Xinex password/);
  await mate.page.goto(linkIn(reset, "/reset-password"));
  await mate.page.getByLabel("New password", { exact: true }).fill("a brand new passphrase");
  await mate.page.getByLabel("Repeat the new password", { exact: true }).fill("a brand new passphrase");
  await mate.page.getByRole("button", { name: "Set password" }).click();
  await mate.page.getByText("Your password is changed").waitFor();
  await mate.page.getByRole("link", { name: "Sign in" }).click();
  await mate.page.getByLabel("E-mail", { exact: true }).fill(mateEmail);
  await mate.page.getByLabel("Password", { exact: true }).fill("a brand new passphrase");
  await mate.page.getByRole("button", { name: "Sign in", exact: true }).click();
  await mate.page.getByRole("heading", { name: "Overview" }).waitFor();

  // A bad e-mail link says so.
  await mate.page.goto("/verify-email?token=not-a-real-token-at-all");
  await mate.page.getByRole("alert").waitFor();
  assert.deepEqual([...owner.errors, ...mate.errors], []);
});
