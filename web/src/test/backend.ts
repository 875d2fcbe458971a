// A fake core for component tests: answers commands from a table, records every call with its
// arguments (as ipc.ts sends them), and lets a test push events into the channels it was given.
import type { Channel } from "@tauri-apps/api/core";
import { mockIPC } from "@tauri-apps/api/mocks";
import type { AppError } from "../lib/ipc";

type Args = Record<string, unknown>;
type Answer = unknown | ((args: Args) => unknown);

/** What a command handler throws to make the command fail with `code`. */
export function fail(code: string, message = ""): AppError {
  return { code, message };
}

export function mockBackend(answers: Record<string, Answer> = {}) {
  const calls: { cmd: string; args: Args }[] = [];
  const channels = new Map<string, Channel<unknown>>();
  const table = { ...answers };

  mockIPC((cmd, payload) => {
    const args = (payload ?? {}) as Args;
    calls.push({ cmd, args });
    if (args.onEvent) channels.set(cmd, args.onEvent as Channel<unknown>);
    if (!(cmd in table)) throw fail("internal", `${cmd} is not mocked`);
    const answer = table[cmd];
    return typeof answer === "function" ? (answer as (a: Args) => unknown)(args) : answer;
  });

  return {
    calls,
    /** Arguments of each call of `cmd`, oldest first. */
    callsOf(cmd: string): Args[] {
      return calls.filter((c) => c.cmd === cmd).map((c) => c.args);
    },
    /** Changes or adds an answer after set-up. */
    answer(cmd: string, answer: Answer) {
      table[cmd] = answer;
    },
    /** Delivers `event` to the channel the last `cmd` call registered. */
    emit(cmd: string, event: unknown) {
      const channel = channels.get(cmd);
      if (!channel) throw new Error(`${cmd} registered no channel`);
      channel.onmessage(event);
    },
  };
}

/** A promise with its resolve exposed, to hold a command open while a test looks. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
