class_name ProcgenSprites
extends RefCounted
## Loads a procgen sheet at run time: the sheet PNG and its TexturePacker JSON (Hash or Array layout,
## as written by `procgen sheet --format texturepacker`), for sheets generated while the game runs.
##
##     var frames := ProcgenSprites.load_sprite_frames("user://sprites/sheet.png", "user://sprites/sheet.json")
##     $AnimatedSprite2D.sprite_frames = frames
##     var textures := ProcgenSprites.load_atlas_textures(png_path, json_path)   # name -> AtlasTexture
##
## A res:// PNG is loaded through the import system (it is the only copy an exported game has); any other
## path is read from disk with Image.load_from_file.


## {sprite name: AtlasTexture} cut from the sheet, or {} after reporting an error.
static func load_atlas_textures(png_path: String, json_path: String) -> Dictionary:
	var atlas := _load_json(json_path)
	var texture := _load_texture(png_path)
	if atlas.is_empty() or texture == null:
		return {}
	return _cut(texture, atlas)


## A SpriteFrames with one animation per entry of the JSON's "animations", or one "default" animation of
## every sprite in sheet order when it has none. Returns null after reporting an error.
static func load_sprite_frames(png_path: String, json_path: String, fps := 5.0, loop := true) -> SpriteFrames:
	var atlas := _load_json(json_path)
	var texture := _load_texture(png_path)
	if atlas.is_empty() or texture == null:
		return null
	var textures := _cut(texture, atlas)
	var animations: Dictionary = atlas.get("animations", {})
	if animations.is_empty():
		animations = {"default": textures.keys()}
	var sprite_frames := SpriteFrames.new()
	# SpriteFrames.new() starts with an empty "default"; the JSON decides which animations exist.
	sprite_frames.remove_animation("default")
	for animation in animations:
		sprite_frames.add_animation(animation)
		sprite_frames.set_animation_speed(animation, fps)
		sprite_frames.set_animation_loop(animation, loop)
		for frame_name in animations[animation]:
			sprite_frames.add_frame(animation, textures[frame_name])
	return sprite_frames


static func _cut(texture: Texture2D, atlas: Dictionary) -> Dictionary:
	var textures := {}
	var frames = atlas.get("frames", {})
	# Hash layout: {name: frame}; Array layout: [frame with "filename"].
	var names: Array = frames.keys() if frames is Dictionary else frames.map(func(f): return f["filename"])
	var entries: Array = frames.values() if frames is Dictionary else frames
	for i in names.size():
		var rect: Dictionary = entries[i]["frame"]
		var region := AtlasTexture.new()
		region.atlas = texture
		region.region = Rect2(rect["x"], rect["y"], rect["w"], rect["h"])
		textures[names[i]] = region
	return textures


static func _load_json(path: String) -> Dictionary:
	var text := FileAccess.get_file_as_string(path)
	if text.is_empty():
		push_error("ProcgenSprites: cannot read atlas JSON %s (%s)" % [path, error_string(FileAccess.get_open_error())])
		return {}
	var parsed = JSON.parse_string(text)
	if not (parsed is Dictionary and parsed.has("frames")):
		push_error("ProcgenSprites: %s is not a TexturePacker JSON atlas (expected an object with \"frames\")" % path)
		return {}
	return parsed


static func _load_texture(path: String) -> Texture2D:
	if path.begins_with("res://") and ResourceLoader.exists(path):
		return load(path) as Texture2D
	var image := Image.load_from_file(path)
	if image == null:
		push_error("ProcgenSprites: cannot load sheet image %s" % path)
		return null
	return ImageTexture.create_from_image(image)
