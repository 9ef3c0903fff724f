"""The Godot 4 addon shipped in procgen/addons/procgen and install_addon, which copies it into a project.

Godot itself is not run here; the tests check what can be checked without it: plugin.cfg as Godot's
ConfigFile reads it, the files it names, GDScript's indentation rule, that the runtime loader reads only
fields the TexturePacker writer writes, and every refusal of install_addon.
"""

import configparser
import json
import re
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

import procgen
from procgen.errors import ProcgenError
from procgen.export import export_sheet, install_addon
from procgen.export.godot_addon import addon_files

ADDON = resources.files("procgen").joinpath("addons", "procgen")


def addon_text(name):
    return ADDON.joinpath(name).read_text(encoding="utf-8")


def test_plugin_cfg_names_files_that_ship():
    config = configparser.ConfigParser()
    config.read_string(addon_text("plugin.cfg"))
    # Godot's ConfigFile stores strings quoted.
    plugin = {key: value.strip('"') for key, value in config["plugin"].items()}
    assert set(plugin) == {"name", "description", "author", "version", "script"}
    assert all(plugin.values())
    assert plugin["version"] == procgen.__version__
    assert ADDON.joinpath(plugin["script"]).is_file()
    assert set(addon_files()) == {"plugin.cfg", "procgen_plugin.gd", "procgen_sprites.gd", "README.md"}


def test_addon_is_flat_and_listed_in_package_data():
    # setup.cfg ships addons/procgen/* only: a subfolder would be missing from an installed wheel.
    assert [entry.name for entry in ADDON.iterdir() if entry.is_dir()] == []
    setup = configparser.ConfigParser()
    setup.read(Path(__file__).resolve().parents[1] / "setup.cfg")
    assert "addons/procgen/*" in setup["options.package_data"]["procgen"].split()


@pytest.mark.parametrize("script", ["procgen_plugin.gd", "procgen_sprites.gd"])
def test_gdscript_indents_with_tabs_only(script):
    # Godot refuses a script that mixes tabs and spaces in indentation; its style is tabs.
    for number, line in enumerate(addon_text(script).splitlines(), 1):
        indent = line[: len(line) - len(line.lstrip())]
        assert set(indent) <= {"\t"}, f"{script}:{number} indents with spaces"


def test_editor_plugin_runs_the_cli_and_reloads():
    source = addon_text("procgen_plugin.gd")
    assert source.splitlines()[:2] == ["@tool", "extends EditorPlugin"]
    assert "add_tool_menu_item(" in source and "remove_tool_menu_item(" in source
    call = re.search(r"OS\.execute\((\w+), (\w+), \w+, true\)", source)
    assert call, "OS.execute with stderr read into the output"
    assert re.search(r'\["--format", "godot", "--out", ProjectSettings\.globalize_path\(OUT_DIR\), "--force"\]', source)
    assert 'const OUT_DIR := "res://procgen_sprites"' in source
    assert "get_resource_filesystem()" in source and ".scan()" in source
    assert "ResourceLoader.CACHE_MODE_REPLACE" in source


def test_godot_res_dir_default_matches_where_the_plugin_writes(tmp_path):
    # The .tres must point at the folder the plugin passes as --out, or Godot cannot find the PNG.
    out_dir = re.search(r'const OUT_DIR := "([^"]+)"', addon_text("procgen_plugin.gd")).group(1)
    rgba = np.zeros((4, 4, 4), np.uint8)
    paths = export_sheet([("a", rgba)], tmp_path / "o", formats="godot")
    assert f'path="{out_dir}/sheet.png"' in paths["godot"].read_text()


def test_runtime_loader_reads_only_fields_the_writer_writes(tmp_path):
    source = addon_text("procgen_sprites.gd")
    read = set(re.findall(r'\["(\w+)"\]', source)) | set(re.findall(r'\.get\("(\w+)"', source))
    assert {"frames", "frame", "filename", "animations", "x", "y", "w", "h"} <= read
    rgba = np.zeros((4, 4, 4), np.uint8)
    written = set()

    def keys(value):
        if isinstance(value, dict):
            for key, inner in value.items():
                written.add(key)
                keys(inner)
        elif isinstance(value, list):
            for inner in value:
                keys(inner)

    for layout in ("hash", "array"):
        paths = export_sheet([("a", rgba), ("b", rgba)], tmp_path / layout, formats="texturepacker",
                             json_layout=layout, animations={"blink": ["a", "b"]})
        keys(json.loads(paths["texturepacker"].read_text()))
    assert read - {"default"} <= written


# ---------------------------------------------------------------- install_addon


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "game"
    root.mkdir()
    (root / "project.godot").write_text("config_version=5\n")
    return root


def installed(project):
    folder = project / "addons" / "procgen"
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_install_copies_the_shipped_addon(project):
    target = install_addon(project)
    assert target == project / "addons" / "procgen"
    assert installed(project) == addon_files()
    # Installing the same addon again changes nothing and needs no force.
    assert install_addon(project) == target
    assert installed(project) == addon_files()


def test_install_refuses_folder_without_project_godot(tmp_path):
    with pytest.raises(ProcgenError, match="project.godot"):
        install_addon(tmp_path)
    assert list(tmp_path.iterdir()) == []
    install_addon(tmp_path, force=True)
    assert installed(tmp_path) == addon_files()


def test_install_refuses_missing_folder_and_file_in_the_way(tmp_path, project):
    with pytest.raises(ProcgenError, match="no folder"):
        install_addon(tmp_path / "nope")
    (project / "addons").mkdir()
    (project / "addons" / "procgen").write_text("not a folder")
    with pytest.raises(ProcgenError, match="must be a folder"):
        install_addon(project, force=True)


def test_install_refuses_to_overwrite_a_different_addon(project):
    install_addon(project)
    plugin = project / "addons" / "procgen" / "procgen_plugin.gd"
    plugin.write_text("# my edits\n")
    with pytest.raises(ProcgenError, match="procgen_plugin.gd"):
        install_addon(project)
    assert plugin.read_text() == "# my edits\n"
    install_addon(project, force=True)
    assert installed(project) == addon_files()


def test_install_keeps_files_godot_adds(project):
    install_addon(project)
    uid = project / "addons" / "procgen" / "procgen_plugin.gd.uid"
    uid.write_text("uid://b1234\n")
    (project / "addons" / "procgen" / "README.md").unlink()
    install_addon(project)
    assert uid.read_text() == "uid://b1234\n"
    assert {k: v for k, v in installed(project).items() if k != uid.name} == addon_files()
