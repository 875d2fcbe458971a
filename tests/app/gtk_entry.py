"""A Wayland text window for the app's end-to-end tests: a GTK 3 entry (run with
GDK_BACKEND=wayland) that writes its content to a file (argv[1]) once it is up and whenever it
changes. The compositor gives it the focus (a headless one has no keyboard to signal it), and
keys typed through its virtual keyboard (wtype) land here."""

import os
import sys

import gi

gi.require_version("Gtk", "3.0")
from gi.repository import GLib, Gtk  # noqa: E402

out = sys.argv[1]
window = Gtk.Window(title="sotto-wayland-entry")
window.set_default_size(900, 80)
entry = Gtk.Entry()
window.add(entry)


def save(*_):
    with open(out + ".tmp", "w", encoding="utf-8") as f:
        f.write(entry.get_text())
    os.replace(out + ".tmp", out)


entry.connect("changed", save)
window.connect("destroy", Gtk.main_quit)
window.show_all()
entry.grab_focus()
GLib.idle_add(save)
Gtk.main()
