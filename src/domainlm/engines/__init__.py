"""Generation engines beyond the transformers reference; each registers itself in `generate.ENGINES`."""
