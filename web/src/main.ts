import "./app.css";
import { mount } from "svelte";
import App from "./App.svelte";
import { createApp } from "./lib/app.svelte";
import Overlay from "./Overlay.svelte";
import { applyTheme, storedTheme } from "./lib/settings.svelte";

// Before the first paint, so a dark-theme user never sees a light flash.
applyTheme(storedTheme());

const target = document.getElementById("app")!;
let app: ReturnType<typeof mount> | undefined;
try {
  // The same page serves the overlay window (`index.html#overlay`, see src-tauri/src/overlay.rs).
  app = location.hash === "#overlay" ? mount(Overlay, { target }) : mount(App, { target, props: { app: createApp() } });
} catch (error) {
  // Never a blank window: say what broke in plain text.
  const message = document.createElement("p");
  message.setAttribute("role", "alert");
  message.dataset.testid = "error";
  message.textContent = `Sotto could not start: ${error instanceof Error ? error.message : String(error)}`;
  target.replaceChildren(message);
}

export default app;
