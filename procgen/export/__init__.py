"""Writers for what game engines import: sheets, TexturePacker JSON, Godot .tres, Tiled .tsx."""
