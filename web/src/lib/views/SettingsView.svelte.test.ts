import { fireEvent, render, screen } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import { fail, mockBackend } from "../../test/backend";
import { model, SETTINGS } from "../../test/fixtures";
import type { Settings } from "../ipc";
import { createModels } from "../models.svelte";
import { createSettings } from "../settings.svelte";
import SettingsView from "./SettingsView.svelte";

function setup(initial: Partial<Settings> = {}, answers: Record<string, unknown> = {}) {
  let current: Settings = { ...SETTINGS, ...initial };
  const backend = mockBackend({
    get_settings: () => current,
    set_setting: ({ key, value }: Record<string, unknown>) => {
      current = { ...current, [key as string]: value };
      return current;
    },
    list_microphones: [
      { name: "Built-in", is_default: true },
      { name: "USB mic", is_default: false },
    ],
    list_models: [
      model("base.en", { installed: true }),
      model("small.en"),
      model("minilm", { kind: "embedder", installed: true }),
    ],
    app_info: { version: "0.3.0", data_dir: "/home/me/.local/share/sotto", models_dir: "/home/me/.cache/sotto" },
    shortcut_status: {
      hold: { keys: current.shortcut, error: null },
      toggle: { keys: current.toggle_shortcut, error: "HotKey already registered (another program may hold these keys)" },
      paste_last: { keys: current.paste_last_shortcut, error: null },
      insertion: "type",
      command: "sotto-app --toggle",
    },
    ...answers,
  });
  render(SettingsView, { settings: createSettings(), models: createModels() });
  return backend;
}

describe("SettingsView", () => {
  it("says which shortcut works, which does not and why, and how text goes in", async () => {
    const backend = setup();
    const hold = await screen.findByTestId("shortcut-state");
    await vi.waitFor(() => expect(hold.textContent).toMatch(/Works in every app/));
    expect(screen.getByTestId("toggle_shortcut-state").textContent).toMatch(/Not working: HotKey already registered/);
    expect(screen.getByTestId("insertion-state").textContent).toMatch(/typed as keys/);
    const toggle = screen.getByLabelText("Start / stop") as HTMLInputElement;
    await fireEvent.change(toggle, { target: { value: " Ctrl+Alt+J " } });
    await vi.waitFor(() =>
      expect(backend.callsOf("set_setting")).toEqual([{ key: "toggle_shortcut", value: "Ctrl+Alt+J" }]),
    );
    await vi.waitFor(() => expect(backend.callsOf("shortcut_status").length).toBeGreaterThan(1));
    await fireEvent.change(screen.getByLabelText("The text goes in"), { target: { value: "paste" } });
    await vi.waitFor(() => expect(backend.callsOf("set_setting")).toContainEqual({ key: "insertion", value: "paste" }));
  });

  it("shows the keys in use where SOTTO_SHORTCUT replaces the setting", async () => {
    setup({}, {
      shortcut_status: {
        hold: { keys: "ctrl+alt+d", error: null },
        toggle: { keys: "CmdOrCtrl+Alt+Space", error: null },
        paste_last: { keys: "CmdOrCtrl+Alt+Space", error: "the same keys as start / stop" },
        insertion: "type",
        command: "sotto-app --toggle",
      },
    });
    const hold = await screen.findByTestId("shortcut-state");
    await vi.waitFor(() => expect(hold.textContent).toMatch(/as ctrl\+alt\+d \(set by SOTTO_SHORTCUT\)/));
    expect(screen.getByTestId("toggle_shortcut-state").textContent).toMatch(/^\s*Works in every app\.\s*$/);
    expect(screen.getByTestId("paste_last_shortcut-state").textContent).toMatch(/Not working: the same keys as start \/ stop/);
  });

  it("saves the keys that paste the last dictation again", async () => {
    const backend = setup();
    const keys = (await screen.findByLabelText("Paste the last dictation again")) as HTMLInputElement;
    await vi.waitFor(() => expect(keys.value).toBe("CmdOrCtrl+Alt+V"));
    await fireEvent.change(keys, { target: { value: "Ctrl+Alt+P" } });
    await vi.waitFor(() =>
      expect(backend.callsOf("set_setting")).toEqual([{ key: "paste_last_shortcut", value: "Ctrl+Alt+P" }]),
    );
  });

  it("shows the current microphone once the list arrives and saves a change", async () => {
    const backend = setup({ microphone: "USB mic" });
    const select = screen.getByLabelText("Microphone") as HTMLSelectElement;
    await vi.waitFor(() => expect(select.value).toBe("USB mic"));
    await fireEvent.change(select, { target: { value: "" } });
    await vi.waitFor(() =>
      expect(backend.callsOf("set_setting")).toEqual([{ key: "microphone", value: null }]),
    );
  });

  it("offers only installed speech models", async () => {
    const backend = setup();
    const select = screen.getByLabelText("Speech model") as HTMLSelectElement;
    await vi.waitFor(() => expect(select.options).toHaveLength(2));
    expect(Array.from(select.options).map((o) => o.value)).toEqual(["", "base.en"]);
    await fireEvent.change(select, { target: { value: "base.en" } });
    await vi.waitFor(() =>
      expect(backend.callsOf("set_setting")).toEqual([{ key: "model", value: "base.en" }]),
    );
  });

  it("saves the language, empty meaning the model's own", async () => {
    const backend = setup({ language: "de" });
    const input = screen.getByLabelText("Language") as HTMLInputElement;
    await vi.waitFor(() => expect(input.value).toBe("de"));
    await fireEvent.change(input, { target: { value: " " } });
    await vi.waitFor(() =>
      expect(backend.callsOf("set_setting")).toEqual([{ key: "language", value: null }]),
    );
  });

  it("checks the pre-roll range before saving", async () => {
    const backend = setup();
    const input = screen.getByLabelText("Pre-roll (ms)") as HTMLInputElement;
    await vi.waitFor(() => expect(input.value).toBe("300"));
    await fireEvent.change(input, { target: { value: "20000" } });
    expect((await screen.findByTestId("error")).textContent).toMatch(/0 to 10000/);
    expect(backend.callsOf("set_setting")).toHaveLength(0);
    await fireEvent.change(input, { target: { value: "500" } });
    await vi.waitFor(() =>
      expect(backend.callsOf("set_setting")).toEqual([{ key: "pre_roll_ms", value: 500 }]),
    );
    expect(screen.queryByTestId("error")).toBeNull();
  });

  it("saves when unused models are released", async () => {
    const backend = setup({ idle_release_secs: 900 });
    const select = screen.getByLabelText("Release models") as HTMLSelectElement;
    await vi.waitFor(() => expect(select.value).toBe("900"));
    await fireEvent.change(select, { target: { value: "0" } });
    await vi.waitFor(() =>
      expect(backend.callsOf("set_setting")).toEqual([{ key: "idle_release_secs", value: 0 }]),
    );
  });

  it("saves how long the dictation history is kept and clears it on request", async () => {
    const backend = setup({ history_days: 7 }, { clear_dictation_history: 3 });
    const select = screen.getByLabelText("Keep dictation history") as HTMLSelectElement;
    await vi.waitFor(() => expect(select.value).toBe("7"));
    await fireEvent.change(select, { target: { value: "0" } });
    await vi.waitFor(() => expect(backend.callsOf("set_setting")).toEqual([{ key: "history_days", value: 0 }]));
    await fireEvent.click(screen.getByTestId("clear-history"));
    await vi.waitFor(() => expect(screen.getByTestId("history-cleared").textContent).toBe("3 dictations forgotten."));
    expect(backend.callsOf("clear_dictation_history")).toHaveLength(1);
  });

  it("switches the overlay and the sounds off", async () => {
    const backend = setup();
    for (const key of ["overlay", "sounds"] as const) {
      const box = (await screen.findByTestId(key)) as HTMLInputElement;
      await vi.waitFor(() => expect(box.disabled).toBe(false));
      expect(box.checked).toBe(true);
      await fireEvent.click(box);
      await vi.waitFor(() => expect(backend.callsOf("set_setting")).toContainEqual({ key, value: false }));
    }
  });

  it("keeps the microphone open on request", async () => {
    const backend = setup();
    const open = (await screen.findByTestId("keep-microphone-open")) as HTMLInputElement;
    await vi.waitFor(() => expect(open.disabled).toBe(false));
    expect(open.checked).toBe(false);
    await fireEvent.click(open);
    await vi.waitFor(() =>
      expect(backend.callsOf("set_setting")).toEqual([{ key: "keep_microphone_open", value: true }]),
    );
  });

  it("saves the theme and applies it to the page", async () => {
    const backend = setup();
    await fireEvent.change(screen.getByLabelText("Theme"), { target: { value: "dark" } });
    expect(document.documentElement.dataset.theme).toBe("dark");
    await vi.waitFor(() =>
      expect(backend.callsOf("set_setting")).toEqual([{ key: "theme", value: "dark" }]),
    );
  });

  it("shows where the data lives and the version", async () => {
    setup();
    expect(await screen.findByText("/home/me/.local/share/sotto")).toBeTruthy();
    expect(screen.getByText("/home/me/.cache/sotto")).toBeTruthy();
    expect(screen.getByText("Sotto 0.3.0")).toBeTruthy();
  });

  it("changes the passphrase after checking the new one twice", async () => {
    const backend = setup({}, { change_passphrase: null });
    await fireEvent.input(screen.getByLabelText("Current passphrase"), { target: { value: "old secret" } });
    await fireEvent.input(screen.getByLabelText("New passphrase"), { target: { value: "new secret 1" } });
    await fireEvent.input(screen.getByLabelText("New passphrase again"), { target: { value: "new secret 2" } });
    await fireEvent.click(screen.getByRole("button", { name: "Change passphrase" }));
    expect(screen.getByTestId("error").textContent).toMatch(/do not match/);
    expect(backend.callsOf("change_passphrase")).toHaveLength(0);
    await fireEvent.input(screen.getByLabelText("New passphrase again"), { target: { value: "new secret 1" } });
    await fireEvent.click(screen.getByRole("button", { name: "Change passphrase" }));
    expect(await screen.findByText(/Passphrase changed/)).toBeTruthy();
    expect(backend.callsOf("change_passphrase")).toEqual([{ old: "old secret", new: "new secret 1" }]);
  });

  it("reports a wrong current passphrase", async () => {
    setup({}, {
      change_passphrase: () => {
        throw fail("wrong_passphrase", "");
      },
    });
    await fireEvent.input(screen.getByLabelText("Current passphrase"), { target: { value: "bad guess" } });
    await fireEvent.input(screen.getByLabelText("New passphrase"), { target: { value: "new secret 1" } });
    await fireEvent.input(screen.getByLabelText("New passphrase again"), { target: { value: "new secret 1" } });
    await fireEvent.click(screen.getByRole("button", { name: "Change passphrase" }));
    expect((await screen.findByTestId("error")).textContent).toMatch(/passphrase is not right/);
    expect(document.activeElement).toBe(screen.getByLabelText("Current passphrase"));
  });

  it("switches voice commands, clean-up rules and running in the background", async () => {
    const backend = setup();
    const commands = screen.getByTestId("voice-commands") as HTMLInputElement;
    await vi.waitFor(() => expect(commands.checked).toBe(true));
    await fireEvent.click(commands);
    await fireEvent.click(screen.getByTestId("rule-fillers"));
    await fireEvent.click(screen.getByTestId("start-at-login"));
    await vi.waitFor(() => expect(backend.callsOf("set_setting")).toHaveLength(3));
    const calls = backend.callsOf("set_setting");
    expect(calls[0]).toEqual({ key: "voice_commands", value: false });
    expect(calls[1].key).toBe("cleanup");
    expect((calls[1].value as { fillers: boolean }).fillers).toBe(false);
    expect(calls[2]).toEqual({ key: "start_at_login", value: true });
  });

  it("saves the vocabulary one per line and replacements through the core's parser", async () => {
    const backend = setup({}, {
      set_replacements: ({ text }: Record<string, unknown>) => {
        if (String(text).includes("oops")) throw fail("invalid", "line 1: expected `from,to`");
        return { ...SETTINGS, cleanup: { ...SETTINGS.cleanup, replacements: [{ from: "gonna", to: "going to" }] } };
      },
    });
    const vocabulary = screen.getByLabelText("Vocabulary") as HTMLTextAreaElement;
    await vi.waitFor(() => expect(vocabulary.disabled).toBe(false));
    await fireEvent.change(vocabulary, { target: { value: "Rui Quintela\n\nKubernetes \n" } });
    await vi.waitFor(() => expect(backend.callsOf("set_setting")).toHaveLength(1));
    expect((backend.callsOf("set_setting")[0].value as { vocabulary: string[] }).vocabulary).toEqual([
      "Rui Quintela",
      "Kubernetes",
    ]);
    const replacements = screen.getByLabelText("Replacements") as HTMLTextAreaElement;
    await fireEvent.change(replacements, { target: { value: "oops" } });
    expect(await screen.findByText(/expected `from,to`/)).toBeTruthy();
    await fireEvent.change(replacements, { target: { value: "gonna,going to" } });
    await vi.waitFor(() => expect(replacements.value).toBe("gonna\tgoing to"));
  });
});
