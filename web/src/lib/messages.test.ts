import { describe, expect, it } from "vitest";
import { IpcError } from "./ipc";
import { errorCode, errorMessage, messageFor } from "./messages";

describe("messages", () => {
  it("maps every core code to readable text", () => {
    const codes = [
      "locked",
      "wrong_passphrase",
      "vault_missing",
      "vault_corrupt",
      "not_found",
      "bad_audio",
      "no_model",
      "busy",
      "no_microphone",
      "cancelled",
      "io",
      "model",
      "bad_setting",
      "keyring",
      "internal",
    ];
    for (const code of codes) {
      const text = messageFor(code, "detail");
      expect(text).not.toBe(code);
      expect(text).toMatch(/^[A-Z]/);
    }
  });

  it("keeps the core's detail where it names the problem", () => {
    expect(messageFor("io", "cannot write /tmp/x")).toContain("cannot write /tmp/x");
    expect(messageFor("wrong_passphrase", "decrypt failed")).not.toContain("decrypt failed");
  });

  it("shows an unknown code's message as is", () => {
    expect(messageFor("quota", "Disk is full")).toBe("Disk is full");
    expect(errorMessage(new IpcError({ code: "quota", message: "Disk is full" }))).toBe("Disk is full");
  });

  it("reads any rejection", () => {
    expect(errorMessage(new Error("boom"))).toBe("boom");
    expect(errorMessage("plain")).toBe("plain");
    expect(errorCode(new IpcError({ code: "busy", message: "" }))).toBe("busy");
    expect(errorCode(new Error("x"))).toBeNull();
  });
});
