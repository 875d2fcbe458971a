import { fireEvent, render, screen } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import { fail, mockBackend } from "../../test/backend";
import { createSession } from "../session.svelte";
import LockView from "./LockView.svelte";

async function sessionIn(state: "new" | "locked", keyring = false) {
  const session = createSession();
  mockBackend({ vault_status: { state, keyring_enabled: keyring, data_dir: "/data" } });
  await session.load();
  return session;
}

describe("LockView, new vault", () => {
  it("blocks a short passphrase with a message", async () => {
    const session = await sessionIn("new");
    const backend = mockBackend({ unlock: { recovery_key: "KEY" } });
    render(LockView, { session });
    await fireEvent.input(screen.getByTestId("unlock-input"), { target: { value: "short" } });
    await fireEvent.input(screen.getByTestId("unlock-confirm"), { target: { value: "short" } });
    await fireEvent.click(screen.getByTestId("unlock-submit"));
    expect(screen.getByTestId("error").textContent).toMatch(/at least 8 characters/);
    expect(backend.callsOf("unlock")).toHaveLength(0);
  });

  it("blocks mismatched passphrases and focuses the second field", async () => {
    const session = await sessionIn("new");
    const backend = mockBackend({ unlock: { recovery_key: "KEY" } });
    render(LockView, { session });
    await fireEvent.input(screen.getByTestId("unlock-input"), { target: { value: "correct horse" } });
    await fireEvent.input(screen.getByTestId("unlock-confirm"), { target: { value: "correct house" } });
    await fireEvent.click(screen.getByTestId("unlock-submit"));
    expect(screen.getByTestId("error").textContent).toMatch(/do not match/);
    expect(backend.callsOf("unlock")).toHaveLength(0);
    expect(document.activeElement).toBe(screen.getByTestId("unlock-confirm"));
  });

  it("shows the recovery key once, then enters the app", async () => {
    const session = await sessionIn("new");
    const backend = mockBackend({ unlock: { recovery_key: "ABCD-EFGH-IJKL" } });
    render(LockView, { session });
    await fireEvent.input(screen.getByTestId("unlock-input"), { target: { value: "correct horse" } });
    await fireEvent.input(screen.getByTestId("unlock-confirm"), { target: { value: "correct horse" } });
    await fireEvent.click(screen.getByTestId("unlock-submit"));
    expect((await screen.findByTestId("recovery-key")).textContent).toBe("ABCD-EFGH-IJKL");
    expect(backend.callsOf("unlock")).toEqual([{ passphrase: "correct horse" }]);
    expect(session.phase).toBe("new");
    await fireEvent.click(screen.getByTestId("recovery-done"));
    expect(session.phase).toBe("unlocked");
    expect(session.view).toBe("notes");
  });
});

describe("LockView, locked vault", () => {
  it("keeps focus in the field after a wrong passphrase", async () => {
    const session = await sessionIn("locked");
    mockBackend({
      unlock: () => {
        throw fail("wrong_passphrase", "decryption failed");
      },
    });
    render(LockView, { session });
    expect(screen.queryByTestId("unlock-confirm")).toBeNull();
    const input = screen.getByTestId("unlock-input");
    await fireEvent.input(input, { target: { value: "nope nope" } });
    await fireEvent.click(screen.getByTestId("unlock-submit"));
    expect((await screen.findByTestId("error")).textContent).toMatch(/passphrase is not right/);
    expect(document.activeElement).toBe(input);
    expect(session.phase).toBe("locked");
  });

  it("unlocks with the passphrase", async () => {
    const session = await sessionIn("locked");
    mockBackend({ unlock: { recovery_key: null } });
    render(LockView, { session });
    await fireEvent.input(screen.getByTestId("unlock-input"), { target: { value: "correct horse" } });
    await fireEvent.submit(screen.getByTestId("unlock-input").closest("form")!);
    await vi.waitFor(() => expect(session.phase).toBe("unlocked"));
  });

  it("offers the system keyring only when the core has one", async () => {
    const session = await sessionIn("locked", true);
    const backend = mockBackend({ unlock_with_keyring: { recovery_key: null } });
    render(LockView, { session });
    await fireEvent.click(screen.getByRole("button", { name: /system keyring/ }));
    await vi.waitFor(() => expect(session.phase).toBe("unlocked"));
    expect(backend.callsOf("unlock_with_keyring")).toHaveLength(1);
  });

  it("has no keyring button without a keyring", async () => {
    const session = await sessionIn("locked", false);
    render(LockView, { session });
    expect(screen.queryByRole("button", { name: /system keyring/ })).toBeNull();
  });
});
