"""Installing the Godot 4 editor plugin that ships inside the procgen package.

The addon's files live in procgen/addons/procgen/ (plugin.cfg, the editor plugin, a runtime loader and a
README) and are found with importlib.resources, so an installed wheel works as well as a checkout.
`install_addon` copies them to PROJECT_DIR/addons/procgen/, where Godot looks for plugins.
"""

from importlib import resources
from pathlib import Path

from procgen.errors import ProcgenError
from procgen.export.atomic import write_bytes


def addon_files():
    """The shipped addon as {file name: bytes}; the folder is flat (setup.cfg ships addons/procgen/*)."""
    root = resources.files("procgen").joinpath("addons", "procgen")
    return {entry.name: entry.read_bytes() for entry in sorted(root.iterdir(), key=lambda e: e.name) if entry.is_file()}


def install_addon(project_dir, force=False):
    """Copy the addon into PROJECT_DIR/addons/procgen/ and return that folder's Path.

    project_dir: a Godot project, i.e. a folder holding project.godot; force=True accepts one without.
    A file already there with other contents than the shipped one (an edited or older addon) is refused
    unless force=True. Files that are identical are left untouched, and files the addon does not ship
    (Godot's own .uid and .import files, say) are never removed.
    """
    project = Path(project_dir)
    if not project.is_dir():
        raise ProcgenError(f"project_dir {str(project)!r} must be an existing Godot project folder; found no folder")
    if not (project / "project.godot").is_file() and not force:
        raise ProcgenError(
            f"project_dir {str(project)!r} must be a Godot project, holding project.godot; found none "
            "(pass force=True, or --force on the command line, to install anyway)"
        )
    target = project / "addons" / "procgen"
    if target.exists() and not target.is_dir():
        raise ProcgenError(f"{str(target)!r} must be a folder for the addon; found a file")
    files = addon_files()
    changed = [n for n, data in files.items() if (target / n).exists() and (target / n).read_bytes() != data]
    if changed and not force:
        raise ProcgenError(
            f"{str(target)!r} already holds a different procgen addon (differing: {', '.join(changed)}); "
            "pass force=True (--force) to replace it"
        )
    target.mkdir(parents=True, exist_ok=True)
    for file_name, data in files.items():
        path = target / file_name
        if not path.exists() or path.read_bytes() != data:
            write_bytes(path, data)
    return target
