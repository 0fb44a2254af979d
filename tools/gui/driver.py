"""Runs inside the GUI Blender (`blender --python driver.py -- CONTROL_DIR`): executes the test's
steps one by one from a persistent `bpy.app.timers` callback, so every step runs on Blender's main
loop between event handling and redraws, as a user's action would.

Protocol (files, so nothing but a shared folder is needed across the chroot):
the host writes `CONTROL_DIR/cmd-NNNNNN.json` = {"op": NAME, ...arguments}; the driver answers
`CONTROL_DIR/res-NNNNNN.json` = {"ok": true, "value": ...} or {"ok": false, "error": traceback}.
Both are written to a temporary name and renamed, so a reader never sees half a file. The driver
writes `CONTROL_DIR/ready.json` once its timer runs, i.e. once the window is up.

A step that must span several main-loop iterations (waiting for redraws) is a generator: it yields
and is resumed on the next tick. Tracebacks of failing steps go into the answer, not to Blender's
output, so the host's "no Python error in the log" check sees only the add-on's own errors.
"""

import json
import os
import sys
import time
import traceback

import bpy

TICK = 0.01
# A step that spans main-loop iterations is resumed this soon: each resumption still comes after
# Blender has handled events and redrawn, which is all a yield waits for.
RESUME = 0.002

CONTROL = sys.argv[sys.argv.index("--") + 1] if "--" in sys.argv else os.environ["FLAMENCO_DESK_GUI_CONTROL"]

_next = 1
_running = None  # (number, generator) of a step that spans ticks
_draws = {}  # panel idname -> draw record
_probes = {}  # panel idname -> the draw function appended to it
_namespace = {}


def _write(name, data):
    tmp = os.path.join(CONTROL, f".{name}.tmp")
    with open(tmp, "w") as f:
        json.dump(data, f, default=repr)
    os.replace(tmp, os.path.join(CONTROL, name))


def _answer(number, ok, value=None, error=None):
    _write(f"res-{number:06d}.json", {"ok": ok, "value": value, "error": error})


# --- steps -------------------------------------------------------------------------------------


def op_ping():
    return "pong"


def op_install_extension(zip):
    prefs = bpy.context.preferences
    prefs.system.use_online_access = True
    result = bpy.ops.extensions.package_install_files(filepath=zip, repo="user_default", enable_on_install=True)
    return {"result": sorted(result), "addons": sorted(a.module for a in prefs.addons)}


def op_open_file(path, load_ui=True):
    bpy.ops.wm.open_mainfile(filepath=path, load_ui=load_ui)
    return bpy.data.filepath


def op_set_preference(path, value):
    """`path` is evaluated from `bpy.context.preferences`, e.g. "addons['bl_ext...'].preferences.manager_url"."""
    owner_path, _, attr = path.rpartition(".")
    owner = eval(f"prefs.{owner_path}" if owner_path else "prefs", {"prefs": bpy.context.preferences})
    setattr(owner, attr, value)
    return getattr(owner, attr)


def _areas(area_type):
    for window in bpy.context.window_manager.windows:
        for area in window.screen.areas:
            if area.type == area_type:
                yield window, area


def op_properties_context(context):
    """Switch every Properties editor to a tab: OUTPUT, RENDER, SCENE, ..."""
    found = 0
    for _window, area in _areas("PROPERTIES"):
        area.spaces.active.context = context
        area.tag_redraw()
        found += 1
    return found


def op_sidebar(show=True):
    """Show (or hide) the 3D Viewports' sidebar; answers the active tab of the first one (its
    bl_category). The tab is chosen by the host with real input (Blender 4.3 cannot set it from
    Python: `Region.active_panel_category` is read-only there)."""
    category = None
    for _window, area in _areas("VIEW_3D"):
        area.spaces.active.show_region_ui = show
        area.tag_redraw()
        if category is None:
            category = op_sidebar_tab()
    return category


def op_sidebar_tab():
    for _window, area in _areas("VIEW_3D"):
        for region in area.regions:
            if region.type == "UI":
                return region.active_panel_category
    return None


def op_scroll(area_type, region_type="WINDOW", to="bottom", pages=50):
    """Scroll a region (e.g. the Properties editor) to its top or bottom, as the scroll wheel
    would: the add-on's panels come last in their tabs."""
    op = bpy.ops.view2d.scroll_down if to == "bottom" else bpy.ops.view2d.scroll_up
    for window, area in _areas(area_type):
        for region in area.regions:
            if region.type == region_type:
                with bpy.context.temp_override(window=window, area=area, region=region):
                    for _ in range(pages):
                        op(deltay=0, page=True)
                area.tag_redraw()
                return True
    return False


def op_redraw(ticks=3):
    """Tag every area for redraw and return after `ticks` more main-loop iterations, so the window
    shows the state as it is now."""
    for window in bpy.context.window_manager.windows:
        for area in window.screen.areas:
            area.tag_redraw()
    for _ in range(ticks):
        yield
    return True


def op_wait(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        yield
    return seconds


def op_geometry():
    """Every window's areas and regions in window pixels (origin bottom left, as Blender has it)."""
    windows = []
    for window in bpy.context.window_manager.windows:
        areas = []
        for area in window.screen.areas:
            areas.append(
                {
                    "type": area.type,
                    "ui_type": area.ui_type,
                    "x": area.x,
                    "y": area.y,
                    "width": area.width,
                    "height": area.height,
                    "regions": [
                        {"type": r.type, "x": r.x, "y": r.y, "width": r.width, "height": r.height}
                        for r in area.regions
                    ],
                }
            )
        windows.append(
            {"x": window.x, "y": window.y, "width": window.width, "height": window.height, "screen": window.screen.name, "areas": areas}
        )
    prefs = bpy.context.preferences
    return {
        "windows": windows,
        "ui_scale": prefs.view.ui_scale,
        "pixel_size": prefs.system.pixel_size,
        "widget_unit": int(round(20 * prefs.system.ui_scale)),
    }


def op_probe_draws(idnames):
    """Count the draws of these panels and remember the region they were drawn in: proof that
    Blender drew them, in which editor, at which width. Uses the panels' public `append` (a draw
    function called after theirs), which draws nothing."""
    for idname in idnames:
        if idname in _probes:
            continue
        _probes[idname] = _make_probe(idname)
        getattr(bpy.types, idname).append(_probes[idname])
    return sorted(idnames)


def _make_probe(idname):
    # Exactly (self, context): Blender passes as many arguments as the function declares.
    def probe(self, context):
        rec = _draws.setdefault(idname, {"count": 0})
        rec["count"] += 1
        rec["last"] = time.time()
        if context.region is not None:
            rec["region"] = {"type": context.region.type, "width": context.region.width, "height": context.region.height}
        if context.area is not None:
            rec["area"] = context.area.type

    return probe


def op_draws():
    return _draws


def op_button_under_mouse(area_type, region_type="WINDOW"):
    """What Blender's UI has under the mouse pointer in the first such region: the property of
    the button it highlights (`context.property`), or the operator it runs (as Blender's own
    "Copy Python Command" sees it), or None. Yields first, so Blender has handled the pointer's
    latest motion events."""
    yield
    yield
    for window, area in _areas(area_type):
        for region in area.regions:
            if region.type != region_type:
                continue
            with bpy.context.temp_override(window=window, area=area, region=region):
                found = {"operator": None, "command": None, "property": None, "owner": None}
                prop = getattr(bpy.context, "property", None)
                if prop:
                    owner, path, _index = prop
                    found["property"] = path
                    found["owner"] = type(owner).__name__
                    return found
                wm = bpy.context.window_manager
                saved = wm.clipboard
                wm.clipboard = ""
                try:
                    if bpy.ops.ui.copy_python_command_button.poll():
                        bpy.ops.ui.copy_python_command_button()
                    command = wm.clipboard
                finally:
                    wm.clipboard = saved
                if command.startswith("bpy.ops."):
                    found["command"] = command
                    found["operator"] = command[len("bpy.ops.") :].split("(", 1)[0]
                    return found
                return None
    return None


class _Recorder:
    """Stands in for a UILayout and records what a draw function would show: labels, property
    and operator buttons (with the text Blender would use when none is given), progress bars,
    icons. Any other layout call is accepted and gives a sub-layout that records into the same
    list, so draw code can change its structure without breaking the reader."""

    def __init__(self, out):
        object.__setattr__(self, "_out", out)
        for name, value in _LAYOUT_DEFAULTS.items():
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return lambda *args, **kwargs: _Recorder(self._out)

    def label(self, text="", **kwargs):
        self._out.append({"kind": "label", "text": text, "icon": kwargs.get("icon")})

    def prop(self, data, property, text=None, **kwargs):
        if text is None:
            try:
                text = data.bl_rna.properties[property].name
            except (AttributeError, KeyError):
                text = property
        try:
            value = getattr(data, property)
        except AttributeError:
            value = None
        self._out.append({"kind": "prop", "property": property, "text": text, "value": value})

    def operator(self, operator, text=None, **kwargs):
        if text is None:
            module, _, name = operator.partition(".")
            cls = getattr(bpy.types, f"{module.upper()}_OT_{name}", None)
            text = getattr(cls, "bl_label", operator)
        record = {"kind": "operator", "operator": operator, "text": text, "props": {}}
        self._out.append(record)

        class Props:
            def __setattr__(self, key, value):
                record["props"][key] = value

        return Props()

    def progress(self, factor=0.0, type="BAR", text=""):
        self._out.append({"kind": "progress", "factor": factor, "text": text})

    def template_icon(self, icon_value=0, scale=1.0):
        self._out.append({"kind": "icon", "icon_value": icon_value, "scale": scale})


_LAYOUT_DEFAULTS = {
    "enabled": True,
    "active": True,
    "alert": False,
    "use_property_split": False,
    "use_property_decorate": True,
    "scale_x": 1.0,
    "scale_y": 1.0,
    "alignment": "EXPAND",
    "operator_context": "INVOKE_DEFAULT",
    "emboss": "NORMAL",
}


def _ui_class_draws(cls, module_prefix):
    """The draw functions of a UI class that come from a module (its own `draw` if defined
    there, and functions appended to it, e.g. to the status bar's header)."""
    draws = []
    own = cls.__dict__.get("draw")
    if own is not None and own.__module__.startswith(module_prefix):
        draws.append(own)
    dyn = getattr(cls, "_dyn_ui_initialize", None)
    for fn in dyn() if dyn is not None else ():
        if getattr(fn, "__module__", "").startswith(module_prefix) and fn not in draws:
            draws.append(fn)
    return draws


def op_ui_text(cls_name, module_prefix, area_type=None, region_type=None):
    """What the draw functions of `cls_name` (a Panel or Header class, e.g.
    "STATUSBAR_HT_header") that come from `module_prefix` would show now: a list of records
    ({"kind": "label"|"prop"|"operator"|"progress"|"icon", "text": ...}). Drawn into a
    recording layout, with the context of the first such editor's region when given."""
    cls = getattr(bpy.types, cls_name)
    out = []
    space = area_type or getattr(cls, "bl_space_type", None)
    region_kind = region_type or getattr(cls, "bl_region_type", None)
    override = {}
    for window, area in _areas(space) if space else ():
        override = {"window": window, "area": area}
        for region in area.regions:
            if region.type == region_kind:
                override["region"] = region
        break
    with bpy.context.temp_override(**override):
        for fn in _ui_class_draws(cls, module_prefix):
            fake = type("Owner", (), {})()
            fake.layout = _Recorder(out)
            fake.bl_space_type = space
            fn(fake, bpy.context)
    return out


def op_exec(code):
    """Run Python in Blender; the value of `result` is the answer. Names persist between calls."""
    _namespace.update({"bpy": bpy, "C": bpy.context, "D": bpy.data, "sys": sys})
    _namespace.pop("result", None)
    exec(compile(code, "<gui-step>", "exec"), _namespace)
    return _namespace.get("result")


def op_quit():
    # Without the "save changes?" prompt, which would wait for a click.
    bpy.context.preferences.view.use_save_prompt = False
    bpy.ops.wm.quit_blender()
    return True


# --- loop --------------------------------------------------------------------------------------


def _start(number, cmd):
    global _running
    op = cmd.pop("op")
    fn = globals().get(f"op_{op}")
    if fn is None:
        _answer(number, False, error=f"unknown step {op!r}")
        return
    value = fn(**cmd)
    if hasattr(value, "__next__"):
        _running = (number, value)
        _resume()
    else:
        _answer(number, True, value)


def _resume():
    global _running
    number, gen = _running
    try:
        next(gen)
    except StopIteration as stop:
        _running = None
        _answer(number, True, stop.value)
    except Exception:
        _running = None
        _answer(number, False, error=traceback.format_exc())


def _tick():
    global _next
    # Never raise: an exception would unregister the timer silently.
    try:
        if _running is not None:
            _resume()
            return RESUME if _running is not None else 0.0
        path = os.path.join(CONTROL, f"cmd-{_next:06d}.json")
        if not os.path.exists(path):
            return TICK
        number = _next
        _next += 1
        with open(path) as f:
            cmd = json.load(f)
        try:
            _start(number, cmd)
        except Exception:
            _answer(number, False, error=traceback.format_exc())
    except Exception:
        traceback.print_exc()
    if _running is not None:
        return RESUME
    return 0.0 if os.path.exists(os.path.join(CONTROL, f"cmd-{_next:06d}.json")) else TICK


def _ready():
    _write(
        "ready.json",
        {"version": bpy.app.version_string, "pid": os.getpid(), "online_access": bpy.app.online_access, "python": sys.version},
    )
    return None


# The splash (and its Quick Setup on a fresh user folder) would cover the window.
bpy.context.preferences.view.show_splash = False
bpy.app.timers.register(_tick, first_interval=TICK, persistent=True)
bpy.app.timers.register(_ready, first_interval=0.5, persistent=True)
