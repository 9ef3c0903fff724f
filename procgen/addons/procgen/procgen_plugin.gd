@tool
extends EditorPlugin
## Adds Project > Tools > "Procgen: Generate Sprite Sheet". It runs
##     procgen sheet <procgen/sheet_arguments> --format godot --out <res://procgen_sprites> --force
## then rescans the project so the new PNG is imported, and reloads every SpriteFrames .tres the command
## wrote, replacing cached copies so open scenes show the new sprites.
## Project settings: procgen/executable (default "procgen", found on PATH) and procgen/sheet_arguments
## (extra arguments such as --model plants -n 64 --seed 7; see `procgen sheet --help`).

const MENU_ITEM := "Procgen: Generate Sprite Sheet"
const OUT_DIR := "res://procgen_sprites"
const SETTING_EXECUTABLE := "procgen/executable"
const SETTING_ARGUMENTS := "procgen/sheet_arguments"


func _enter_tree() -> void:
	_add_setting(SETTING_EXECUTABLE, "procgen", TYPE_STRING)
	_add_setting(SETTING_ARGUMENTS, PackedStringArray(), TYPE_PACKED_STRING_ARRAY)
	add_tool_menu_item(MENU_ITEM, _generate)


func _exit_tree() -> void:
	remove_tool_menu_item(MENU_ITEM)


func _add_setting(setting: String, default_value: Variant, type: int) -> void:
	if not ProjectSettings.has_setting(setting):
		ProjectSettings.set_setting(setting, default_value)
	ProjectSettings.set_initial_value(setting, default_value)
	ProjectSettings.add_property_info({"name": setting, "type": type})


func _generate() -> void:
	var executable: String = ProjectSettings.get_setting(SETTING_EXECUTABLE, "procgen")
	var arguments := PackedStringArray(["sheet"])
	arguments.append_array(ProjectSettings.get_setting(SETTING_ARGUMENTS, PackedStringArray()))
	# --force: the folder already holds Godot's .import files and the previous sheet after the first run.
	arguments.append_array(["--format", "godot", "--out", ProjectSettings.globalize_path(OUT_DIR), "--force"])
	var output := []
	var exit_code := OS.execute(executable, arguments, output, true)
	var text := "\n".join(PackedStringArray(output))
	if exit_code != 0:
		push_error("procgen: `%s %s` exited with %d (is procgen installed and on PATH?)\n%s"
				% [executable, " ".join(arguments), exit_code, text])
		return
	print("procgen: ", text)

	var filesystem := EditorInterface.get_resource_filesystem()
	filesystem.scan()
	# The PNG must be imported before a SpriteFrames that points at it can load.
	while filesystem.is_scanning():
		await get_tree().process_frame
	for file_name in DirAccess.get_files_at(OUT_DIR):
		if file_name.ends_with(".tres"):
			ResourceLoader.load(OUT_DIR.path_join(file_name), "SpriteFrames", ResourceLoader.CACHE_MODE_REPLACE)
