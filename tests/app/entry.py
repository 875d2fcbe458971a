"""A text window for the app's end-to-end tests: one Tk entry that holds the keyboard focus and
writes its content to a file (argv[1]) whenever it changes; argv[2], when given, is written once
the window is mapped and focused. Typed keys, pastes and input-method commits all land here."""

import sys
import tkinter as tk

out, ready = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else None)
root = tk.Tk()
root.title("sotto-test-entry")
root.geometry("900x80+40+600")
text = tk.StringVar()
entry = tk.Entry(root, textvariable=text, width=100)
entry.pack(fill="x", padx=8, pady=8)


def save(*_):
    with open(out + ".tmp", "w", encoding="utf-8") as f:
        f.write(text.get())
    import os

    os.replace(out + ".tmp", out)


text.trace_add("write", save)


def focus():
    root.focus_force()
    entry.focus_set()
    save()
    if ready:
        with open(ready, "w") as f:
            f.write("ready")


root.after(300, focus)
root.mainloop()
